#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, broker+controller) for development and tests.
# Jars come from Maven Central through scripts/kafka/pom.xml and are cached in .cache/kafka.
# Usage: scripts/kafka.sh start|stop|status|fetch
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOME_DIR="${KAFKA_HOME_DIR:-$ROOT/.cache/kafka}"
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
LIBS="$HOME_DIR/libs"
DATA="$HOME_DIR/data-$PORT"
CONF="$HOME_DIR/server-$PORT.properties"
LOG="$HOME_DIR/server-$PORT.log"
PIDFILE="$HOME_DIR/kafka-$PORT.pid"
STAMP="$LIBS/.complete"

log() { echo "kafka.sh: $*" >&2; }

fetch() {
  if [[ -f "$STAMP" && "$STAMP" -nt "$ROOT/scripts/kafka/pom.xml" ]]; then return 0; fi
  command -v mvn >/dev/null || { log "Maven (mvn) is required to fetch the Kafka jars"; exit 1; }
  command -v java >/dev/null || { log "Java 17+ is required to run Kafka"; exit 1; }
  log "fetching Apache Kafka jars from Maven Central into $LIBS"
  rm -rf "$LIBS"; mkdir -p "$LIBS"
  mvn -q -B -f "$ROOT/scripts/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$LIBS" -DincludeScope=runtime >&2
  touch "$STAMP"
}

running() {
  [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

write_config() {
  mkdir -p "$HOME_DIR"
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

# Always called in a subshell: exec keeps the recorded pid equal to the JVM's.
java_cmd() {
  exec java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$HOME_DIR/log4j2.properties" \
    -cp "$LIBS/*" "$@"
}

start() {
  # stdout says "reused" or "started" so that callers (the test setup) stop only what they started.
  if running; then log "already running (pid $(cat "$PIDFILE")) on 127.0.0.1:$PORT"; echo reused; return 0; fi
  if port_open "$PORT"; then log "port $PORT is taken by another process; set KAFKA_PORT"; exit 1; fi
  fetch
  write_config
  if [[ ! -f "$DATA/meta.properties" ]]; then
    rm -rf "$DATA"
    local cluster_id; cluster_id="$(java_cmd kafka.tools.StorageTool random-uuid)"
    (java_cmd kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$CONF") >>"$LOG" 2>&1
  fi
  log "starting Kafka on 127.0.0.1:$PORT (log: $LOG)"
  # The log is appended across runs: only lines written after this point count as readiness.
  local log_start; log_start=$(( $(wc -l <"$LOG" 2>/dev/null || echo 0) + 1 ))
  (trap '' HUP; java_cmd kafka.Kafka "$CONF") >>"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 240); do
    if ! running; then log "Kafka exited during start-up; last lines of $LOG:"; tail -n 30 "$LOG" >&2; exit 1; fi
    if port_open "$PORT" && tail -n "+$log_start" "$LOG" | grep -q "Kafka Server started"; then
      log "ready on 127.0.0.1:$PORT"; echo started; return 0
    fi
    sleep 0.5
  done
  log "Kafka did not become ready within 120 s; see $LOG"; exit 1
}

stop() {
  if ! running; then rm -f "$PIDFILE"; log "not running"; return 0; fi
  local pid; pid="$(cat "$PIDFILE")"
  kill -TERM "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; log "stopped"; return 0; }
    sleep 0.5
  done
  log "Kafka did not stop within 30 s; killing it"; kill -KILL "$pid" 2>/dev/null || true; rm -f "$PIDFILE"
}

status() {
  if running; then echo "running pid=$(cat "$PIDFILE") brokers=127.0.0.1:$PORT"; else echo "stopped"; exit 3; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  fetch) fetch ;;
  *) echo "usage: $0 start|stop|status|fetch" >&2; exit 2 ;;
esac
