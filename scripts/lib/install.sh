# shellcheck shell=bash
# `scripts/services install`: installs what is missing; everything is skipped when already present
# at the pinned version (stamp files next to the installed things).

require_cmd() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed; this machine kind should have it ($2)"
}

# ---- Debian packages -----------------------------------------------------------------------------
install_apt() {
  local missing=()
  [ -x "/usr/lib/postgresql/$PG_MAJOR/bin/postgres" ] && command -v pg_ctlcluster >/dev/null 2>&1 ||
    missing+=(postgresql "postgresql-$PG_MAJOR")
  [ -x /usr/bin/prometheus-pushgateway ] || missing+=(prometheus-pushgateway)
  # Prometheus (server + promtool for the alert-rule tests), Chromium for page screenshots and browser
  # tests, poppler's pdftotext/pdftoppm for report checks, DejaVu for the charts' text.
  [ -x /usr/bin/prometheus ] && [ -x /usr/bin/promtool ] || missing+=(prometheus)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v pdftoppm >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
  [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
  if [ ${#missing[@]} -eq 0 ]; then
    say "apt: postgresql-$PG_MAJOR, prometheus(-pushgateway), chromium, poppler-utils, fonts already installed"
    return 0
  fi
  [ "$(id -u)" = 0 ] || die "apt: need root to install ${missing[*]}"
  say "apt: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ---- Go tools ------------------------------------------------------------------------------------
# go_tool NAME MODULE VERSION: `go install MODULE@VERSION` into $BIN_DIR, skipped when the stamp
# says that exact version is already there.
go_tool() {
  local name="$1" module="$2" version="$3" stamp
  stamp="$BIN_DIR/.$name.version"
  if [ -x "$BIN_DIR/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$module@$version" ]; then
    say "go: $name $version already installed"
    return 0
  fi
  say "go: installing $module@$version"
  (
    export GOBIN="$BIN_DIR" CGO_ENABLED=0 GOFLAGS=-mod=mod
    [ -n "$HXP_GOTOOLCHAIN" ] && export GOTOOLCHAIN="$HXP_GOTOOLCHAIN"
    go install "$module@$version"
  ) || return 1
  echo "$module@$version" >"$stamp"
}

# go_pinned_tool NAME MODULE VERSION SUM: for modules whose versions the proxy will not list
# (`go install m@v` asks for the list to check deprecation): build MODULE's main package inside a
# throw-away module that requires MODULE@VERSION, then check the downloaded module's hash.
go_pinned_tool() {
  local name="$1" module="$2" version="$3" sum="$4" stamp dir got
  stamp="$BIN_DIR/.$name.version"
  if [ -x "$BIN_DIR/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$module@$version" ]; then
    say "go: $name $version already installed"
    return 0
  fi
  say "go: building $module@$version"
  dir="$HXP_CACHE_DIR/gomod-$name"
  rm -rf "$dir"
  mkdir -p "$dir"
  (
    cd "$dir"
    export CGO_ENABLED=0 GOFLAGS=-mod=mod GONOSUMDB="$module" GOWORK=off
    [ -n "$HXP_GOTOOLCHAIN" ] && export GOTOOLCHAIN="$HXP_GOTOOLCHAIN"
    go mod init "hxp-tools/$name" >/dev/null 2>&1
    go mod edit -require="$module@$version"
    go build -trimpath -o "$BIN_DIR/$name.tmp" "$module"
  ) || return 1
  got="$(awk -v m="$module" -v v="$version" '$1 == m && $2 == v { print $3 }' "$dir/go.sum")"
  if [ "$got" != "$sum" ]; then
    rm -f "$BIN_DIR/$name.tmp"
    say "go: $module@$version has hash '$got', expected '$sum'"
    return 1
  fi
  mv "$BIN_DIR/$name.tmp" "$BIN_DIR/$name"
  echo "$module@$version" >"$stamp"
}

# vendored_go_tool NAME TARBALL DIR GOFLAGS: build a release source kept beside the repository
# ($HXP_VENDOR_DIR) whose versions the module proxy will not serve. The stamp is the tarball's sha256,
# so a new tarball rebuilds.
vendored_go_tool() {
  local name="$1" tarball="$HXP_VENDOR_DIR/$2" dir="$3" goflags="$4" stamp sum work
  stamp="$BIN_DIR/.$name.version"
  [ -f "$tarball" ] || {
    say "go: $tarball not found (set HXP_VENDOR_DIR to the folder holding $2)"
    return 1
  }
  sum="$(sha256sum "$tarball" | cut -d' ' -f1)"
  if [ -x "$BIN_DIR/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$2 sha256:$sum" ]; then
    say "go: $name from $2 already built"
    return 0
  fi
  say "go: building $name from $2"
  work="$HXP_CACHE_DIR/src-$name"
  rm -rf "$work"
  mkdir -p "$work"
  tar xzf "$tarball" -C "$work"
  (
    cd "$work/$dir"
    export CGO_ENABLED=0 GOFLAGS="$goflags" GOWORK=off
    [ -n "$HXP_GOTOOLCHAIN" ] && export GOTOOLCHAIN="$HXP_GOTOOLCHAIN"
    go build -trimpath -o "$BIN_DIR/$name.tmp" .
  ) || return 1
  mv "$BIN_DIR/$name.tmp" "$BIN_DIR/$name"
  echo "$2 sha256:$sum" >"$stamp"
}

install_go_tools() {
  local rc=0
  go_tool versitygw github.com/versity/versitygw/cmd/versitygw "$VERSITYGW_VERSION" || rc=1
  go_tool mailpit github.com/axllent/mailpit "$MAILPIT_VERSION" || rc=1
  # of-watchdog: the module proxy refuses every version here; its release source has its dependencies
  # vendored, so it builds offline. cron-connector's go build fetches its modules from the proxy.
  vendored_go_tool of-watchdog "of-watchdog-$OF_WATCHDOG_RELEASE.tar.gz" "of-watchdog-$OF_WATCHDOG_RELEASE" -mod=vendor || rc=1
  vendored_go_tool cron-connector "cron-connector-$CRON_CONNECTOR_RELEASE.tar.gz" "cron-connector-$CRON_CONNECTOR_RELEASE" -mod=mod || rc=1
  go_pinned_tool faas-cli github.com/openfaas/faas-cli "$FAAS_CLI_VERSION" "$FAAS_CLI_SUM" || rc=1
  return $rc
}

# ---- Kafka from Maven Central --------------------------------------------------------------------
kafka_stamp_text() { echo "kafka_2.13=$1 slf4j-reload4j=$SLF4J_RELOAD4J_VERSION reload4j=$RELOAD4J_VERSION"; }

install_kafka() {
  local ver dir
  for ver in $KAFKA_VERSIONS; do
    dir="$HXP_CACHE_DIR/kafka-$ver"
    if [ "$(cat "$dir/.complete" 2>/dev/null)" = "$(kafka_stamp_text "$ver")" ]; then
      say "kafka: $ver already installed in $dir/lib"
      echo "$ver" >"$HXP_CACHE_DIR/kafka.current"
      return 0
    fi
  done
  for ver in $KAFKA_VERSIONS; do
    dir="$HXP_CACHE_DIR/kafka-$ver"
    say "kafka: resolving org.apache.kafka:kafka_2.13:$ver with Maven"
    rm -rf "$dir"
    mkdir -p "$dir"
    if mvn -q -B -f "$REPO_DIR/deploy/kafka/pom.xml" \
      -Dkafka.version="$ver" \
      -Dslf4j.reload4j.version="$SLF4J_RELOAD4J_VERSION" \
      -Dreload4j.version="$RELOAD4J_VERSION" \
      dependency:copy-dependencies -DoutputDirectory="$dir/lib" >"$dir/mvn.log" 2>&1 &&
      [ -f "$dir/lib/kafka_2.13-$ver.jar" ]; then
      kafka_stamp_text "$ver" >"$dir/.complete"
      echo "$ver" >"$HXP_CACHE_DIR/kafka.current"
      say "kafka: $ver installed ($(find "$dir/lib" -name '*.jar' | wc -l) jars)"
      return 0
    fi
    say "kafka: $ver did not resolve (last lines of $dir/mvn.log):"
    tail -n 15 "$dir/mvn.log" >&2 || true
  done
  die "kafka: none of $KAFKA_VERSIONS resolved from Maven Central"
}

cmd_install() {
  local t0 go_pid go_log rc=0
  t0=$(date +%s)
  ensure_dirs
  require_cmd go "Go toolchain"
  require_cmd java "OpenJDK 17"
  require_cmd mvn "Maven"
  require_cmd node "Node.js 20"
  require_cmd curl "curl"
  # The Go builds are CPU-bound and take minutes cold: run them while apt and Maven download.
  go_log="$LOG_DIR/install-go.log"
  : >"$go_log"
  install_go_tools >"$go_log" 2>&1 &
  go_pid=$!
  install_apt || rc=1
  install_kafka || rc=1
  if ! wait "$go_pid"; then
    say "go: installing the Go tools failed; last 40 lines of $go_log:"
    tail -n 40 "$go_log" >&2
    rc=1
  else
    grep -E '^\[services\]' "$go_log" >&2 || true
  fi
  [ $rc = 0 ] || die "install failed"
  say "install done in $(($(date +%s) - t0))s"
}
