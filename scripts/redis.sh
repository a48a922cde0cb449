#!/usr/bin/env bash
# Local Redis for development and tests (the Redis-backed quota store): Debian's redis-server bound
# to 127.0.0.1, without persistence, its files in .cache/redis (git-ignored).
#
# Usage: scripts/redis.sh start|stop|status
#   start   starts a server on REDIS_PORT, or on a free port, and prints its URL
#           (redis://127.0.0.1:PORT) on stdout once it answers PING. A server this folder started
#           is reused (the one on REDIS_PORT, or any when REDIS_PORT is unset). Installs
#           redis-server and redis-tools with apt-get (through sudo when not root) when missing.
#   stop    stops the server on REDIS_PORT, or every server this folder started, and removes
#           its pid, config and log files (a failed start keeps its log).
#   status  prints "running pid=N url=redis://127.0.0.1:PORT" for each server this folder
#           started (only REDIS_PORT's when set); exits 3 when none runs.
#
# Environment: REDIS_PORT, REDIS_HOME_DIR (.cache/redis), REDIS_START_TIMEOUT (seconds, 30).
#
# Progress goes to stderr, and a failure ends with one line "redis.sh: error: <reason>". `start`
# exits 5 when redis-server is missing and this machine cannot install it (no apt-get, or neither
# root nor sudo), 1 on any other failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOME_DIR="${REDIS_HOME_DIR:-$ROOT/.cache/redis}"
PORT="${REDIS_PORT:-}"
START_TIMEOUT="${REDIS_START_TIMEOUT:-30}"
# shellcheck source=scripts/apt-install.sh
source "$ROOT/scripts/apt-install.sh"
# shellcheck source=scripts/local-server.sh
source "$ROOT/scripts/local-server.sh"

log() { echo "redis.sh: $*" >&2; }
# A failing start first stops the server it launched, so that the error line stays the last line.
fail() { local code="$1"; shift; abandon_start; echo "redis.sh: error: $*" >&2; exit "$code"; }

check_settings() {
  if [[ -n $PORT ]] && ! { [[ $PORT =~ ^[1-9][0-9]{0,4}$ ]] && (( PORT <= 65535 )); }; then
    fail 1 "REDIS_PORT must be a port number, got '$PORT'"
  fi
  [[ $START_TIMEOUT =~ ^[1-9][0-9]*$ ]] || fail 1 "REDIS_START_TIMEOUT must be a number of seconds, got '$START_TIMEOUT'"
}

conf_file() { echo "$HOME_DIR/redis-$1.conf"; }
pid_file() { echo "$HOME_DIR/redis-$1.pid"; }
log_file() { echo "$HOME_DIR/redis-$1.log"; }

# True while the process `pid` is this folder's server on `port` (a zombie or a reused pid does not
# count): its command line, and once it runs its process title (see write_config), names the config file.
is_our_server() {
  local pid="$1" port="$2" args
  [[ $pid =~ ^[0-9]+$ ]] && args="$(ps -ww -o args= -p "$pid" 2>/dev/null)" &&
    [[ $args == *redis-server*"$(conf_file "$port")"* ]]
}

# True when the pid file of `port` names a running server; a stale pid file is removed.
running() {
  local file; file="$(pid_file "$1")"
  [[ -f $file ]] || return 1
  if is_our_server "$(cat "$file")" "$1"; then return 0; fi
  rm -f "$file"
  return 1
}

# The ports of the servers this folder started and that still run.
running_ports() {
  local file port
  for file in "$HOME_DIR"/redis-*.pid; do
    [[ -f $file ]] || continue
    port="${file##*/redis-}"; port="${port%.pid}"
    if [[ $port =~ ^[0-9]+$ ]] && running "$port"; then echo "$port"; fi
  done
}

# True when the server on `port` answers PING with PONG. One request and one line read from a
# socket, without a pipe that could die; a server still loading answers -LOADING instead.
answers_ping() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1"
    printf 'PING\r\n' >&3
    IFS= read -r -t 2 reply <&3 && [[ $reply == $'+PONG\r' ]]
  ) 2>/dev/null
}

# A port nothing listens on, below Linux's ephemeral range (where outgoing connections take theirs).
free_port() {
  local attempt port
  for (( attempt = 0; attempt < 50; attempt++ )); do
    port=$(( 20000 + RANDOM % 12000 ))
    if ! port_open "$port" && [[ ! -f $(pid_file "$port") ]]; then echo "$port"; return 0; fi
  done
  fail 1 "found no free port between 20000 and 31999 after 50 tries; set REDIS_PORT to a free port"
}

need_redis() {
  command -v redis-server >/dev/null && return 0
  log "redis-server is not on PATH; installing Debian's redis-server and redis-tools (log: $HOME_DIR/apt-install.log)"
  local status=0
  apt_install "$HOME_DIR" redis-server redis-tools || status=$?
  (( status == 0 )) || fail "$status" "$APT_PROBLEM"
  command -v redis-server >/dev/null || fail 1 "Debian's redis-server package is installed, yet redis-server is not on PATH ($PATH)"
}

prepare_home() {
  if ! { mkdir -p "$HOME_DIR" 2>/dev/null && [[ -w $HOME_DIR ]]; }; then
    fail 1 "cannot write to $HOME_DIR; set REDIS_HOME_DIR to a writable folder"
  fi
}

write_config() {
  cat >"$(conf_file "$1")" <<CONF
bind 127.0.0.1
port $1
protected-mode yes
daemonize no
# No persistence: a test's data lives as long as its server.
save ""
appendonly no
dir $HOME_DIR
logfile ""
# The title names this file, so that is_our_server (and a test looking for leftovers) finds it.
proc-title-template "{title} {listen-addr} {server-mode} {config-file}"
CONF
}

log_size() {
  file_size "$(log_file "$1")"
}

# What the server on `port` logged from byte `from` on.
log_since() {
  file_from "$(log_file "$1")" "$2"
}

# Stops the server `pid` on `port` (TERM, then KILL after 10 s) and removes its pid and config files.
kill_server() {
  local pid="$1" port="$2" i
  kill -TERM "$pid" 2>/dev/null || true
  for (( i = 0; i < 100; i++ )); do
    is_our_server "$pid" "$port" || break
    sleep 0.1
  done
  if is_our_server "$pid" "$port"; then log "Redis did not stop within 10 s; killing it"; kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
  rm -f "$(pid_file "$port")" "$(conf_file "$port")"
}

STARTING_PID=""
STARTING_PORT=""
# On any exit before the server is ready (a failure, an interruption), the server this start
# launched is stopped: a half-started one left behind would be reused by the next start.
abandon_start() {
  trap - EXIT INT TERM
  if [[ -n $STARTING_PID ]] && is_alive "$STARTING_PID"; then
    log "stopping the Redis process this start launched (pid $STARTING_PID)"
    kill_server "$STARTING_PID" "$STARTING_PORT"
  fi
  [[ -z $STARTING_PORT ]] || rm -f "$(pid_file "$STARTING_PORT")" "$(conf_file "$STARTING_PORT")"
  STARTING_PID=""
  STARTING_PORT=""
}

# Launches a server on `port` and waits until it answers PING; LAUNCH is then "ready", or "taken"
# when another process bound the port first (the caller may try another). Fails on anything else.
LAUNCH=""
launch() {
  local port="$1" from written deadline
  LAUNCH=""
  write_config "$port"
  from=$(( $(log_size "$port") + 1 ))
  log "starting Redis on 127.0.0.1:$port (log: $(log_file "$port"))"
  trap abandon_start EXIT
  trap 'log "interrupted"; exit 130' INT TERM
  STARTING_PORT="$port"
  (trap '' HUP; exec redis-server "$(conf_file "$port")") >>"$(log_file "$port")" 2>&1 </dev/null &
  STARTING_PID=$!
  echo "$STARTING_PID" >"$(pid_file "$port")"
  deadline=$(( SECONDS + START_TIMEOUT ))
  while (( SECONDS < deadline )); do
    if answers_ping "$port" && is_our_server "$STARTING_PID" "$port"; then
      trap - EXIT INT TERM
      STARTING_PID=""
      STARTING_PORT=""
      LAUNCH=ready
      return 0
    fi
    if ! is_alive "$STARTING_PID"; then
      written="$(log_since "$port" "$from")"
      if [[ $written == *"Address already in use"* ]]; then abandon_start; LAUNCH=taken; return 0; fi
      log "last lines of $(log_file "$port"):"; tail -n 20 "$(log_file "$port")" >&2
      fail 1 "Redis stopped during start-up (last lines of $(log_file "$port") above)"
    fi
    sleep 0.2
  done
  log "last lines of $(log_file "$port"):"; tail -n 20 "$(log_file "$port")" >&2
  fail 1 "Redis did not answer PING on 127.0.0.1:$port within $START_TIMEOUT s (REDIS_START_TIMEOUT); it was stopped"
}

taken_port_error() {
  echo "port $1 is already in use by another process$(port_owner "$1"); set REDIS_PORT to a free port"
}

start() {
  local port ports attempt
  if [[ -n $PORT ]]; then
    if running "$PORT"; then log "already running (pid $(cat "$(pid_file "$PORT")")) on 127.0.0.1:$PORT"; echo "redis://127.0.0.1:$PORT"; return 0; fi
  else
    ports="$(running_ports)"
    port="${ports%%$'\n'*}"
    if [[ -n $port ]]; then log "already running (pid $(cat "$(pid_file "$port")")) on 127.0.0.1:$port"; echo "redis://127.0.0.1:$port"; return 0; fi
  fi
  need_redis
  prepare_home
  if [[ -n $PORT ]]; then
    port="$PORT"
    if port_open "$port"; then fail 1 "$(taken_port_error "$port")"; fi
    launch "$port"
    [[ $LAUNCH == ready ]] || fail 1 "$(taken_port_error "$port")"
  else
    # A free port can be taken between the look and the bind: then another one is tried.
    for (( attempt = 1; ; attempt++ )); do
      port="$(free_port)"
      launch "$port"
      [[ $LAUNCH == taken ]] || break
      (( attempt < 3 )) || fail 1 "$(taken_port_error "$port") (three free ports were taken before Redis could bind them)"
    done
  fi
  log "ready on 127.0.0.1:$port"
  echo "redis://127.0.0.1:$port"
}

# The port of `PORT` when its server runs, else every running port of this folder.
selected_ports() {
  if [[ -z $PORT ]]; then running_ports
  elif running "$PORT"; then echo "$PORT"
  fi
}

stop() {
  local ports port
  ports="$(selected_ports)"
  if [[ -z $ports ]]; then log "no Redis started from $HOME_DIR is running${PORT:+ on 127.0.0.1:$PORT}"; return 0; fi
  for port in $ports; do
    local pid; pid="$(cat "$(pid_file "$port")")"
    log "stopping Redis on 127.0.0.1:$port (pid $pid)"
    kill_server "$pid" "$port"
    # Each free-port start writes its own log; a server stopped cleanly leaves none behind.
    rm -f "$(log_file "$port")"
  done
  log "stopped"
}

status() {
  local ports port
  ports="$(selected_ports)"
  if [[ -z $ports ]]; then echo "stopped"; exit 3; fi
  for port in $ports; do echo "running pid=$(cat "$(pid_file "$port")") url=redis://127.0.0.1:$port"; done
}

usage() {
  echo "usage: $0 start|stop|status" >&2
  exit 2
}

check_settings
case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
