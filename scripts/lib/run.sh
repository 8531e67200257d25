# shellcheck shell=bash
# `scripts/services up|down|status|logs`: one start_*/wait_*/stop_*/is_up_* set per service.
# `up` starts every missing service first, then waits for each, so the JVM and the Go servers
# boot side by side.

# already_up NAME PORT: true, and says so, when NAME runs from this script's pid file or when something
# else already listens on PORT (then it is checked, not started: a second copy could not bind anyway).
already_up() {
  local name="$1" port="$2"
  if live_pid "$name" >/dev/null; then
    say "$name: already running"
    return 0
  fi
  if port_open "$port"; then
    rm -f "$(pid_file "$name")"
    say "$name: port $port is taken by a process this script did not start; checking it"
    return 0
  fi
  return 1
}

# wait_started NAME: waits for is_up_NAME, and for NAME's process to stay alive when this script started it.
wait_started() {
  local need_pid=1
  [ -s "$(pid_file "$1")" ] || need_pid=0
  wait_ready "$1" "is_up_$1" "$need_pid"
}

# ---- PostgreSQL (Debian cluster) -----------------------------------------------------------------
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}
pg_cluster_line() { pg_lsclusters -h 2>/dev/null | awk -v v="$PG_MAJOR" '$1 == v && $2 == "main"'; }
pg_online() { pg_cluster_line | grep -q online; }
is_up_postgres() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; }

start_postgres() {
  [ -x "/usr/lib/postgresql/$PG_MAJOR/bin/postgres" ] || die "postgres: not installed; run scripts/services install"
  if [ -z "$(pg_cluster_line)" ]; then
    say "postgres: creating cluster $PG_MAJOR/main on port $PG_PORT"
    pg_createcluster "$PG_MAJOR" main --port "$PG_PORT" >>"$(log_file postgres-admin)" 2>&1 9>&- ||
      fail_with_log postgres-admin "pg_createcluster failed"
  fi
  # The cluster logs where Debian puts it; link it into the one logs folder.
  ln -sfn "/var/log/postgresql/postgresql-$PG_MAJOR-main.log" "$(log_file postgres)"
  if pg_online; then
    say "postgres: already up"
    return 0
  fi
  say "postgres: starting cluster $PG_MAJOR/main"
  pg_ctlcluster "$PG_MAJOR" main start >>"$(log_file postgres-admin)" 2>&1 9>&- ||
    fail_with_log postgres "pg_ctlcluster $PG_MAJOR main start failed"
}

pg_ready_as_hxp() {
  [ "$(PGPASSWORD="$PG_PASSWORD" PGCONNECT_TIMEOUT=3 psql -X -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" \
    -tAc 'select 42' 2>/dev/null)" = 42 ]
}

wait_postgres() {
  local start
  start=$(date +%s)
  until as_postgres psql -X -p "$PG_PORT" -qtAc 'select 1' >/dev/null 2>&1; do
    [ $(($(date +%s) - start)) -lt "$UP_TIMEOUT" ] || fail_with_log postgres "not accepting connections within ${UP_TIMEOUT}s"
    sleep 1
  done
  # Role hxp (tests create their own databases) and database hxp owned by it; idempotent.
  as_postgres psql -X -p "$PG_PORT" -v ON_ERROR_STOP=1 -q >>"$(log_file postgres-admin)" 2>&1 <<SQL ||
DO \$\$
BEGIN
  BEGIN
    CREATE ROLE $PG_USER;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END;
  ALTER ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
END
\$\$;
-- The benchmark settles freshly loaded data with a CHECKPOINT (bench/aggregate.ts).
GRANT pg_checkpoint TO $PG_USER;
SQL
    fail_with_log postgres-admin "creating role $PG_USER failed"
  if [ "$(as_postgres psql -X -p "$PG_PORT" -tAc "select 1 from pg_database where datname = '$PG_DB'")" != 1 ]; then
    as_postgres createdb -p "$PG_PORT" -O "$PG_USER" "$PG_DB" >>"$(log_file postgres-admin)" 2>&1 ||
      [ "$(as_postgres psql -X -p "$PG_PORT" -tAc "select 1 from pg_database where datname = '$PG_DB'")" = 1 ] ||
      fail_with_log postgres-admin "createdb $PG_DB failed"
  fi
  wait_ready postgres pg_ready_as_hxp 0
}

stop_postgres() {
  if pg_online; then
    say "stopping postgres (cluster $PG_MAJOR/main)"
    pg_ctlcluster "$PG_MAJOR" main stop -m fast >>"$(log_file postgres-admin)" 2>&1 || true
  fi
}

# ---- Kafka (single-node KRaft) -------------------------------------------------------------------
KAFKA_DIR="$HXP_STATE_DIR/kafka"
kafka_lib() {
  local ver
  ver="$(cat "$HXP_CACHE_DIR/kafka.current" 2>/dev/null)" || die "kafka: not installed; run scripts/services install"
  [ -d "$HXP_CACHE_DIR/kafka-$ver/lib" ] || die "kafka: $HXP_CACHE_DIR/kafka-$ver/lib missing; run scripts/services install"
  echo "$HXP_CACHE_DIR/kafka-$ver/lib"
}
is_up_kafka() { port_open "$KAFKA_PORT"; }

start_kafka() {
  local lib id log
  already_up kafka "$KAFKA_PORT" && return 0
  lib="$(kafka_lib)"
  log="$(log_file kafka)"
  mkdir -p "$KAFKA_DIR/data"
  sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
    -e "s|@KAFKA_LOG_DIR@|$KAFKA_DIR/data|g" \
    "$REPO_DIR/deploy/kafka/server.properties.template" >"$KAFKA_DIR/server.properties"
  # One cluster id for the life of the data dir (re-read from it if the id file was lost).
  if [ -f "$KAFKA_DIR/data/meta.properties" ]; then
    sed -n 's/^cluster.id=//p' "$KAFKA_DIR/data/meta.properties" >"$KAFKA_DIR/cluster.id"
  elif [ ! -s "$KAFKA_DIR/cluster.id" ]; then
    java -cp "$lib/*" kafka.tools.StorageTool random-uuid 2>>"$log" | tail -n 1 >"$KAFKA_DIR/cluster.id"
  fi
  id="$(cat "$KAFKA_DIR/cluster.id")"
  [ -n "$id" ] || fail_with_log kafka "StorageTool random-uuid gave no id"
  java -Dlog4j.configuration="file:$REPO_DIR/deploy/kafka/log4j.properties" -cp "$lib/*" \
    kafka.tools.StorageTool format -t "$id" -c "$KAFKA_DIR/server.properties" --ignore-formatted >>"$log" 2>&1 ||
    fail_with_log kafka "StorageTool format failed"
  say "kafka: starting broker on 127.0.0.1:$KAFKA_PORT (cluster $id)"
  start_bg kafka java -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$REPO_DIR/deploy/kafka/log4j.properties" \
    -cp "$lib/*" kafka.Kafka "$KAFKA_DIR/server.properties"
}

wait_kafka() {
  wait_started kafka
  require_node_modules kafkajs
  node "$REPO_DIR/scripts/wait-kafka.mjs" --brokers "127.0.0.1:$KAFKA_PORT" --timeout 90 >>"$(log_file wait-kafka)" 2>&1 ||
    { tail -n 15 "$(log_file wait-kafka)" >&2; fail_with_log kafka "produce/consume round trip failed"; }
  say "kafka: produce/consume round trip ok"
}

# ---- S3 (versitygw) ------------------------------------------------------------------------------
is_up_s3() { port_open "$S3_PORT"; }
start_s3() {
  already_up s3 "$S3_PORT" && return 0
  [ -x "$BIN_DIR/versitygw" ] || die "s3: $BIN_DIR/versitygw missing; run scripts/services install"
  mkdir -p "$HXP_STATE_DIR/s3/data" "$HXP_STATE_DIR/s3/meta"
  say "s3: starting versitygw on 127.0.0.1:$S3_PORT"
  start_bg s3 env ROOT_ACCESS_KEY="$S3_ACCESS_KEY" ROOT_SECRET_KEY="$S3_SECRET_KEY" \
    "$BIN_DIR/versitygw" --port "127.0.0.1:$S3_PORT" --region "$S3_REGION" --quiet \
    posix --sidecar "$HXP_STATE_DIR/s3/meta" "$HXP_STATE_DIR/s3/data"
}
wait_s3() {
  wait_started s3
  require_node_modules @aws-sdk/client-s3
  TEST_S3_ACCESS_KEY="$S3_ACCESS_KEY" TEST_S3_SECRET_KEY="$S3_SECRET_KEY" TEST_S3_REGION="$S3_REGION" \
    node "$REPO_DIR/scripts/wait-s3.mjs" --endpoint "http://127.0.0.1:$S3_PORT" --bucket "$S3_BUCKET" --timeout 60 \
    >>"$(log_file wait-s3)" 2>&1 ||
    { tail -n 15 "$(log_file wait-s3)" >&2; fail_with_log s3 "bucket listing failed"; }
  say "s3: bucket listing ok, bucket $S3_BUCKET present"
}

# ---- Prometheus Pushgateway ----------------------------------------------------------------------
is_up_pushgateway() { http_ok "http://127.0.0.1:$PUSHGATEWAY_PORT/-/ready"; }
start_pushgateway() {
  already_up pushgateway "$PUSHGATEWAY_PORT" && return 0
  [ -x /usr/bin/prometheus-pushgateway ] || die "pushgateway: not installed; run scripts/services install"
  say "pushgateway: starting on 127.0.0.1:$PUSHGATEWAY_PORT"
  start_bg pushgateway /usr/bin/prometheus-pushgateway --web.listen-address="127.0.0.1:$PUSHGATEWAY_PORT"
}
wait_pushgateway() { wait_started pushgateway; }

# ---- Prometheus (scrapes the Pushgateway and the local runtime; evaluates deploy/prometheus/rules) ------
PROMETHEUS_DIR="$HXP_STATE_DIR/prometheus"
is_up_prometheus() { http_ok "http://127.0.0.1:$PROMETHEUS_PORT/-/ready"; }
start_prometheus() {
  already_up prometheus "$PROMETHEUS_PORT" && return 0
  [ -x /usr/bin/prometheus ] || die "prometheus: not installed; run scripts/services install"
  mkdir -p "$PROMETHEUS_DIR/data" "$PROMETHEUS_DIR/targets" "$PROMETHEUS_DIR/rules"
  # The rules of the checkout that starts it, copied: the running server must not depend on a worktree.
  rm -f "$PROMETHEUS_DIR/rules/"*.yml
  cp "$REPO_DIR/deploy/prometheus/rules/"*.yml "$PROMETHEUS_DIR/rules/" 2>/dev/null || true
  sed -e "s|@PROMETHEUS_PORT@|$PROMETHEUS_PORT|g" -e "s|@PUSHGATEWAY_PORT@|$PUSHGATEWAY_PORT|g" \
    -e "s|@METRICS_PORT@|$RUNTIME_METRICS_PORT|g" -e "s|@RULES_DIR@|$PROMETHEUS_DIR/rules|g" \
    -e "s|@TARGETS_DIR@|$PROMETHEUS_DIR/targets|g" \
    "$REPO_DIR/deploy/prometheus/prometheus.yml.template" >"$PROMETHEUS_DIR/prometheus.yml"
  /usr/bin/promtool check config "$PROMETHEUS_DIR/prometheus.yml" >>"$(log_file prometheus)" 2>&1 ||
    fail_with_log prometheus "promtool check config failed"
  say "prometheus: starting on 127.0.0.1:$PROMETHEUS_PORT"
  start_bg prometheus /usr/bin/prometheus --config.file="$PROMETHEUS_DIR/prometheus.yml" \
    --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" --storage.tsdb.path="$PROMETHEUS_DIR/data" \
    --storage.tsdb.retention.time=2d --log.level=warn
}
wait_prometheus() { wait_started prometheus; }

# ---- mailpit (SMTP sink with an HTTP API) --------------------------------------------------------
is_up_mailpit() { port_open "$SMTP_PORT" && http_ok "http://127.0.0.1:$MAILPIT_HTTP_PORT/api/v1/info"; }
start_mailpit() {
  already_up mailpit "$MAILPIT_HTTP_PORT" && return 0
  [ -x "$BIN_DIR/mailpit" ] || die "mailpit: $BIN_DIR/mailpit missing; run scripts/services install"
  mkdir -p "$HXP_STATE_DIR/mailpit"
  say "mailpit: starting (SMTP 127.0.0.1:$SMTP_PORT, HTTP 127.0.0.1:$MAILPIT_HTTP_PORT)"
  start_bg mailpit "$BIN_DIR/mailpit" --listen "127.0.0.1:$MAILPIT_HTTP_PORT" --smtp "127.0.0.1:$SMTP_PORT" \
    --database "$HXP_STATE_DIR/mailpit/mailpit.db" --smtp-auth-accept-any --smtp-auth-allow-insecure \
    --smtp-disable-rdns --disable-version-check
}
wait_mailpit() { wait_started mailpit; }

# ---- commands ------------------------------------------------------------------------------------
port_of() {
  case "$1" in
    postgres) echo "127.0.0.1:$PG_PORT" ;;
    kafka) echo "127.0.0.1:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT)" ;;
    s3) echo "127.0.0.1:$S3_PORT" ;;
    pushgateway) echo "127.0.0.1:$PUSHGATEWAY_PORT" ;;
    prometheus) echo "127.0.0.1:$PROMETHEUS_PORT" ;;
    mailpit) echo "127.0.0.1:$SMTP_PORT smtp, 127.0.0.1:$MAILPIT_HTTP_PORT http" ;;
  esac
}

pick_services() {
  local s
  [ $# -gt 0 ] || set -- $SERVICES
  for s in "$@"; do
    case " $SERVICES " in *" $s "*) echo "$s" ;; *) die "unknown service '$s' (one of: $SERVICES)" ;; esac
  done
}

cmd_up() {
  local s list t0
  t0=$(date +%s)
  ensure_dirs
  list="$(pick_services "$@")"
  for s in $list; do "is_up_$s" || rotate_log "$s"; done
  for s in $list; do "start_$s"; done
  for s in $list; do "wait_$s"; done
  say "all up in $(($(date +%s) - t0))s: $(echo $list)"
}

cmd_down() {
  local s list rev=""
  list="$(pick_services "$@")"
  for s in $list; do rev="$s $rev"; done
  for s in $rev; do
    if [ "$s" = postgres ]; then stop_postgres; else stop_pid "$s"; fi
  done
  say "down: $(echo $rev)"
}

cmd_status() {
  local s state pid
  for s in $(pick_services "$@"); do
    state=down
    "is_up_$s" && state=up
    pid=""
    if [ "$s" != postgres ]; then pid="$(live_pid "$s" || true)"; fi
    printf '%-12s %-5s %s%s\n' "$s" "$state" "$(port_of "$s")" "${pid:+  pid $pid}"
  done
}

cmd_logs() {
  local follow="" f s
  if [ "${1:-}" = -f ]; then
    follow=1
    shift
  fi
  if [ $# -eq 0 ]; then
    echo "logs in $LOG_DIR:"
    for f in "$LOG_DIR"/*.log; do
      [ -e "$f" ] || continue
      printf '\n==> %s <==\n' "$f"
      tail -n 20 "$f"
    done
    return 0
  fi
  s="$1"
  f="$(log_file "$s")"
  [ -e "$f" ] || die "no log $f"
  if [ -n "$follow" ]; then tail -n 50 -F "$f"; else tail -n 200 "$f"; fi
}
