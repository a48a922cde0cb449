#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, broker+controller) for development and tests.
# Jars come from Maven Central through scripts/kafka/pom.xml and are cached in .cache/kafka/libs.
#
# Usage: scripts/kafka.sh start|stop|status|reset|fetch
#        scripts/kafka.sh topics ARGS...   Kafka's kafka-topics.sh
#        scripts/kafka.sh groups ARGS...   Kafka's kafka-consumer-groups.sh
# The admin tools talk to 127.0.0.1:$KAFKA_PORT unless ARGS name --bootstrap-server.
#
# Environment: KAFKA_PORT (broker, 9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_HOME_DIR (.cache/kafka),
# KAFKA_LIBS (the jar folder, $KAFKA_HOME_DIR/libs), KAFKA_START_TIMEOUT (seconds, 120),
# and as in Kafka's own scripts JAVA_HOME ($JAVA_HOME/bin/java, else java on PATH), KAFKA_HEAP_OPTS
# (-Xms256m -Xmx1g) and KAFKA_JVM_PERFORMANCE_OPTS (-XX:+UseG1GC) for the broker's JVM.
#
# `start` prints "started" or "reused" on stdout; progress goes to stderr, and a failure ends with
# one line "kafka.sh: error: <reason>" that callers may pass on.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/local-server.sh
source "$ROOT/scripts/local-server.sh"
POM="$ROOT/scripts/kafka/pom.xml"
HOME_DIR="${KAFKA_HOME_DIR:-$ROOT/.cache/kafka}"
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
LIBS="${KAFKA_LIBS:-$HOME_DIR/libs}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}"
PERFORMANCE_OPTS="${KAFKA_JVM_PERFORMANCE_OPTS:--XX:+UseG1GC}"
DATA="$HOME_DIR/data-$PORT"
CONF="$HOME_DIR/server-$PORT.properties"
LOG="$HOME_DIR/server-$PORT.log"
PIDFILE="$HOME_DIR/kafka-$PORT.pid"
STAMP="$LIBS/.complete"

log() { echo "kafka.sh: $*" >&2; }
# A failing start first stops the JVM it launched, so that the error line stays the last line.
fail() { abandon_start; echo "kafka.sh: error: $*" >&2; exit 1; }

check_settings() {
  [[ $PORT =~ ^[0-9]+$ ]] || fail "KAFKA_PORT must be a port number, got '$PORT'"
  [[ $CONTROLLER_PORT =~ ^[0-9]+$ ]] || fail "KAFKA_CONTROLLER_PORT must be a port number, got '$CONTROLLER_PORT'"
  [[ $PORT != "$CONTROLLER_PORT" ]] || fail "KAFKA_PORT and KAFKA_CONTROLLER_PORT are both $PORT; the broker needs two ports"
  [[ $START_TIMEOUT =~ ^[1-9][0-9]*$ ]] || fail "KAFKA_START_TIMEOUT must be a number of seconds, got '$START_TIMEOUT'"
}

need_java() {
  local where="on PATH"; [[ -n ${JAVA_HOME:-} ]] && where="at $JAVA (from JAVA_HOME)"
  command -v "$JAVA" >/dev/null || fail "Java 17+ is needed to run Kafka, and there is no java $where; install a JDK 17 or later"
  local version
  version="$("$JAVA" -version 2>&1)" || fail "Java 17+ is needed to run Kafka, and java $where does not run: $version"
  [[ $version =~ version\ \"([0-9]+)(\.([0-9]+))? ]] || fail "cannot tell the version of java $where: $version"
  local major="${BASH_REMATCH[1]}"
  [[ $major == 1 ]] && major="${BASH_REMATCH[3]}"
  (( major >= 17 )) || fail "Java 17+ is needed to run Kafka, and java $where is version $major; install a JDK 17 or later"
}

fetch() {
  local want; want="$(cksum <"$POM")"
  if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then return 0; fi
  command -v mvn >/dev/null || fail "Maven (mvn) is needed once to fetch the Kafka jars into $LIBS, and mvn is not on PATH"
  need_java
  mkdir -p "$(dirname "$LIBS")" "$HOME_DIR"
  # Two starts at once (parallel test runs) must not download into the same folder. The lock is
  # released before anything else runs: a broker inheriting it would hold it for its lifetime.
  exec 8>"$LIBS.lock"
  if command -v flock >/dev/null; then flock 8; fi
  if [[ ! -f "$STAMP" || "$(cat "$STAMP")" != "$want" ]]; then download "$want"; fi
  exec 8>&-
}

download() {
  log "fetching Apache Kafka jars from Maven Central into $LIBS"
  local staging="$LIBS.staging.$$" mvn_log="$HOME_DIR/maven.log"
  rm -rf "$staging"
  # Maven 3.8 writes colour resets even in batch mode without colour: its output goes to a file and
  # is shown, stripped, only when it failed.
  if ! mvn -B -q -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
      -DoutputDirectory="$staging" -DincludeScope=runtime >"$mvn_log" 2>&1; then
    rm -rf "$staging"
    sed -E $'s/\x1b\\[[0-9;]*[A-Za-z]//g' "$mvn_log" >"$mvn_log.txt" && mv "$mvn_log.txt" "$mvn_log"
    tail -n 20 "$mvn_log" >&2
    fail "Maven could not fetch the Kafka jars (last lines above; all of them in $mvn_log)"
  fi
  rm -f "$mvn_log"
  echo "$1" >"$staging/.complete"
  # A running broker keeps the jars it opened; the old folder moves aside before the new one lands.
  rm -rf "$LIBS.old"
  if [[ -e "$LIBS" || -L "$LIBS" ]]; then mv "$LIBS" "$LIBS.old"; fi
  mv "$staging" "$LIBS"
  rm -rf "$LIBS.old"
}

# True while the process `pid` runs this folder's broker (a zombie or a reused pid does not count).
is_our_broker() {
  local args
  [[ $1 =~ ^[0-9]+$ ]] && args="$(ps -ww -o args= -p "$1" 2>/dev/null)" && [[ $args == *kafka.Kafka*"$CONF"* ]]
}

# True when the pid file names a running broker; a stale pid file is removed.
running() {
  [[ -f "$PIDFILE" ]] || return 1
  if is_our_broker "$(cat "$PIDFILE")"; then return 0; fi
  rm -f "$PIDFILE"
  return 1
}

check_ports_free() {
  if port_open "$PORT"; then
    fail "port $PORT (the broker port) is already in use by another process$(port_owner "$PORT"); set KAFKA_PORT to a free port"
  fi
  if port_open "$CONTROLLER_PORT"; then
    fail "port $CONTROLLER_PORT (the controller port) is already in use by another process$(port_owner "$CONTROLLER_PORT"); set KAFKA_CONTROLLER_PORT to a free port"
  fi
}

prepare_home() {
  if ! { mkdir -p "$HOME_DIR" 2>/dev/null && [[ -w "$HOME_DIR" ]]; }; then
    fail "cannot write to $HOME_DIR; set KAFKA_HOME_DIR to a writable folder"
  fi
  { : >>"$LOG"; } 2>/dev/null || fail "cannot write the broker log $LOG"
}

write_config() {
  cat >"$CONF" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
log.retention.hours=24
PROPS
  cat >"$HOME_DIR/log4j2.properties" <<'PROPS'
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = info
logger.apache.name = org.apache.kafka
logger.apache.level = warn
PROPS
}

# The broker's JVM; always called in a subshell: exec keeps the recorded pid equal to the JVM's.
broker_java() {
  # shellcheck disable=SC2086 # the option variables hold several words, as in Kafka's own scripts
  exec "$JAVA" $HEAP_OPTS $PERFORMANCE_OPTS -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$HOME_DIR/log4j2.properties" \
    -cp "$LIBS/*" "$@"
}

# A short-lived Kafka tool whose logging goes to stderr, so that stdout is only its answer.
tool_java() {
  cat >"$HOME_DIR/tools-log4j2.properties" <<'PROPS'
status = error
appender.console.type = Console
appender.console.name = STDERR
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = STDERR
PROPS
  exec "$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$HOME_DIR/tools-log4j2.properties" \
    -cp "$LIBS/*" "$@"
}

log_size() {
  file_size "$LOG"
}

# What the broker logged from byte `from` on.
log_since() {
  file_from "$LOG" "$1"
}

format_storage() {
  [[ -f "$DATA/meta.properties" ]] && return 0
  rm -rf "$DATA" 2>/dev/null || fail "cannot clear the data folder $DATA; remove it by hand"
  local from cluster_id
  from=$(( $(log_size) + 1 ))
  cluster_id="$( (tool_java kafka.tools.StorageTool random-uuid) 2>>"$LOG")" ||
    fail "Kafka's StorageTool did not run (see $LOG)"
  [[ $cluster_id =~ ^[A-Za-z0-9_-]{22}$ ]] || fail "Kafka's StorageTool gave no cluster id, but: $cluster_id"
  if ! (tool_java kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$CONF") >>"$LOG" 2>&1; then
    local written; written="$(log_since "$from")"
    echo "$written" >&2
    fail "could not format the data folder $DATA (output above)"
  fi
}

# The reason a start failed, when what the broker logged since byte `from` tells it; else nothing.
diagnose() {
  local written line port fatal="" previous="" bind_failure=$'[Ff]ailed to bind to [^\n]*:([0-9]+)'
  written="$(log_since "$1")"
  if [[ $written =~ $bind_failure ]]; then
    port="${BASH_REMATCH[1]}"
    if [[ $port == "$CONTROLLER_PORT" ]]; then
      echo "port $port (the controller port) is already in use by another process; set KAFKA_CONTROLLER_PORT to a free port"
    else
      echo "port $port (the broker port) is already in use by another process; set KAFKA_PORT to a free port"
    fi
    return 0
  fi
  while IFS= read -r line; do
    [[ -z $fatal && $previous == *"Exiting Kafka due to fatal exception"* ]] && fatal="$line"
    previous="$line"
    [[ $line == *ERROR* || $line == *Exception* ]] || continue
    case "$line" in
      *"$DATA"*|*meta.properties*|*KafkaStorageException*|*InconsistentClusterIdException*|*AccessDeniedException*)
        echo "the data folder $DATA cannot be used (${line:0:300}); 'bash scripts/kafka.sh reset' with the same KAFKA_PORT wipes it"
        return 0 ;;
    esac
  done <<<"$written"
  [[ -z $fatal ]] || echo "Kafka stopped during start-up: ${fatal:0:300}"
}

# Stops the JVM `pid` (TERM, then KILL after `grace` seconds) and removes the pid file.
kill_broker() {
  local pid="$1" grace="$2" i
  kill -TERM "$pid" 2>/dev/null || true
  for (( i = 0; i < grace * 2; i++ )); do
    is_our_broker "$pid" || break
    sleep 0.5
  done
  if is_our_broker "$pid"; then log "Kafka did not stop within $grace s; killing it"; kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
}

STARTING_PID=""
# On any exit before the broker is ready (a failure, an interruption), the JVM this start launched
# is stopped: a half-started broker left behind would be reused by the next start.
abandon_start() {
  trap - EXIT INT TERM
  if [[ -n $STARTING_PID ]] && is_alive "$STARTING_PID"; then
    log "stopping the Kafka process this start launched (pid $STARTING_PID)"
    kill_broker "$STARTING_PID" 10
  fi
  [[ -z $STARTING_PID ]] || rm -f "$PIDFILE"
}

start() {
  if running; then log "already running (pid $(cat "$PIDFILE")) on 127.0.0.1:$PORT"; echo reused; return 0; fi
  need_java
  check_ports_free
  fetch
  prepare_home
  write_config
  format_storage
  local from; from=$(( $(log_size) + 1 ))
  log "starting Kafka on 127.0.0.1:$PORT, controller port $CONTROLLER_PORT (log: $LOG)"
  trap abandon_start EXIT
  trap 'log "interrupted"; exit 130' INT TERM
  (trap '' HUP; broker_java kafka.Kafka "$CONF") >>"$LOG" 2>&1 </dev/null &
  STARTING_PID=$!
  echo "$STARTING_PID" >"$PIDFILE"
  local deadline=$(( SECONDS + START_TIMEOUT ))
  while (( SECONDS < deadline )); do
    if ! is_alive "$STARTING_PID"; then
      local reason; reason="$(diagnose "$from")"
      [[ -n $reason ]] || { log "last lines of $LOG:"; tail -n 30 "$LOG" >&2; reason="Kafka stopped during start-up (last lines of $LOG above)"; }
      fail "$reason"
    fi
    if port_open "$PORT" && [[ "$(log_since "$from")" == *"Kafka Server started"* ]]; then
      trap - EXIT INT TERM
      log "ready on 127.0.0.1:$PORT"; echo started; return 0
    fi
    sleep 0.5
  done
  log "last lines of $LOG:"; tail -n 30 "$LOG" >&2
  fail "Kafka did not report ready within $START_TIMEOUT s (KAFKA_START_TIMEOUT); it was stopped"
}

stop() {
  if ! running; then log "not running on 127.0.0.1:$PORT"; return 0; fi
  local pid; pid="$(cat "$PIDFILE")"
  log "stopping Kafka (pid $pid)"
  kill_broker "$pid" 30
  log "stopped"
}

status() {
  if running; then echo "running pid=$(cat "$PIDFILE") brokers=127.0.0.1:$PORT"; else echo "stopped"; exit 3; fi
}

reset() {
  stop
  if port_open "$PORT"; then
    fail "something not started by this script listens on 127.0.0.1:$PORT$(port_owner "$PORT"); stop it first, or set KAFKA_PORT"
  fi
  rm -rf "$DATA" "$LOG" "$CONF"
  log "removed the data folder $DATA and the log $LOG"
}

# Runs one of Kafka's command-line tools, against the local broker unless the arguments name one.
admin_tool() {
  local class="$1"; shift
  need_java
  fetch
  mkdir -p "$HOME_DIR"
  local target=(--bootstrap-server "127.0.0.1:$PORT") arg
  for arg in "$@"; do
    case "$arg" in --bootstrap-server|--bootstrap-server=*|--bootstrap-controller|--bootstrap-controller=*) target=() ;; esac
  done
  tool_java "$class" ${target[@]+"${target[@]}"} "$@"
}

usage() {
  echo "usage: $0 start|stop|status|reset|fetch | topics ARGS... | groups ARGS..." >&2
  exit 2
}

command="${1:-}"
[[ $# -gt 0 ]] && shift
check_settings
case "$command" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  reset) reset ;;
  fetch) fetch ;;
  topics) admin_tool org.apache.kafka.tools.TopicCommand "$@" ;;
  groups) admin_tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand "$@" ;;
  *) usage ;;
esac
