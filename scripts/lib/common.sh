# shellcheck shell=bash
# Helpers shared by scripts/services (sourced; expects the variables set at its top).

say() { printf '[services] %s\n' "$*" >&2; }
die() {
  printf '[services] ERROR: %s\n' "$*" >&2
  exit 1
}

log_file() { echo "$LOG_DIR/$1.log"; }
pid_file() { echo "$RUN_DIR/$1.pid"; }

# The pid in the service's pid file, if that process is still alive.
live_pid() {
  local f pid
  f="$(pid_file "$1")"
  [ -s "$f" ] || return 1
  pid="$(cat "$f")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # A child that exited but was not reaped yet is a zombie: kill -0 still succeeds on it.
  case "$(ps -o stat= -p "$pid" 2>/dev/null)" in Z* | "") return 1 ;; esac
  echo "$pid"
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

http_ok() { curl -fsS -o /dev/null --max-time 3 "$1" 2>/dev/null; }

# rotate_log NAME: a service log is appended to at every start; past $LOG_ROTATE_MB MiB it is moved to NAME.log.1
# (replacing the one before), so that a machine running the tests day after day does not fill its disk (the
# broker writes ~10 MiB per test run). Only for a service that is down: a running one keeps writing to the
# file it opened. The PostgreSQL log is a link to the cluster's own log, which the system rotates.
rotate_log() {
  local log
  log="$(log_file "$1")"
  [ -f "$log" ] && [ ! -L "$log" ] || return 0
  if [ "$(stat -c %s "$log")" -gt $((LOG_ROTATE_MB * 1024 * 1024)) ]; then
    mv -f "$log" "$log.1"
  fi
}

# start_bg NAME CMD...: start CMD detached (own session, survives this shell), stdout+stderr
# appended to the service log, pid in the pid file.
start_bg() {
  local name="$1"
  shift
  local log
  log="$(log_file "$name")"
  printf '\n==== %s starting %s ====\n' "$(date -u +%FT%TZ)" "$name" >>"$log"
  # 9>&-: the service must not inherit the lock of scripts/services (it would hold it forever).
  setsid "$@" >>"$log" 2>&1 </dev/null 9>&- &
  echo $! >"$(pid_file "$name")"
}

# Print the last 40 lines of a service log and exit non-zero.
fail_with_log() {
  local name="$1" why="$2" log
  log="$(log_file "$name")"
  printf '[services] ERROR: %s: %s\n' "$name" "$why" >&2
  if [ -f "$log" ]; then
    printf '[services] ---- last 40 lines of %s ----\n' "$log" >&2
    tail -n 40 "$log" >&2
    printf '[services] ---- end of %s ----\n' "$log" >&2
  fi
  exit 1
}

# wait_ready NAME CHECK_FN [PID_REQUIRED]: call CHECK_FN until it succeeds, within $UP_TIMEOUT
# seconds. When PID_REQUIRED=1, fail at once if the service's process has exited.
wait_ready() {
  local name="$1" check="$2" need_pid="${3:-1}" start now
  start=$(date +%s)
  while :; do
    if "$check"; then
      say "$name is ready ($(($(date +%s) - start))s)"
      return 0
    fi
    if [ "$need_pid" = 1 ] && ! live_pid "$name" >/dev/null; then
      fail_with_log "$name" "process exited before it became ready"
    fi
    now=$(date +%s)
    if [ $((now - start)) -ge "$UP_TIMEOUT" ]; then
      fail_with_log "$name" "not ready within ${UP_TIMEOUT}s"
    fi
    sleep 1
  done
}

# stop_pid NAME: TERM the process in the pid file, KILL it after 30 s; remove the pid file.
stop_pid() {
  local name="$1" pid i
  if pid="$(live_pid "$name")"; then
    say "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "$name did not stop in 30s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$(pid_file "$name")"
}

ensure_dirs() { mkdir -p "$HXP_STATE_DIR" "$LOG_DIR" "$RUN_DIR" "$BIN_DIR"; }

require_node_modules() {
  [ -d "$REPO_DIR/node_modules/$1" ] || die "node_modules/$1 is missing: run 'npm ci' in $REPO_DIR first"
}
