# shellcheck shell=bash
# Sourced by the scripts that run a local server (kafka.sh, redis.sh): the checks they share on
# processes, ports and log files.

# True while the process `pid` exists and is not a zombie: right after the fork it may not have
# exec'd the server yet, so its command line does not name it, but it is starting, not stopped.
is_alive() {
  local stat
  [[ $1 =~ ^[0-9]+$ ]] && stat="$(ps -o stat= -p "$1" 2>/dev/null)" && [[ $stat != Z* ]]
}

# True when something accepts connections on 127.0.0.1:PORT.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# " (pid N, name)" of the process listening on a port, when lsof can tell.
port_owner() {
  command -v lsof >/dev/null || return 0
  local pids; pids="$(lsof -nP -t -iTCP:"$1" -sTCP:LISTEN 2>/dev/null)" || return 0
  local pid="${pids%%$'\n'*}" name
  name="$(ps -o comm= -p "$pid" 2>/dev/null)" || name="?"
  echo " (pid $pid, $name)"
}

# Size of FILE in bytes, 0 when it does not exist.
file_size() {
  if [[ -f $1 ]]; then echo $(( $(wc -c <"$1") )); else echo 0; fi
}

# FILE from byte FROM on. Read into a variable rather than through a pipe: a reader that stops at
# the first match would kill the writer with SIGPIPE once more than a pipe buffer follows the
# match, and under pipefail that reads as "not found".
file_from() {
  tail -c "+$2" "$1" 2>/dev/null || true
}
