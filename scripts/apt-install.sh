# shellcheck shell=bash
# Sourced by the scripts that provision a Debian tool (promtool.sh, redis.sh): installs packages
# with apt-get, as root or through sudo, one install at a time per checkout.
#
# apt_install LOG_DIR PACKAGE...
#   returns 0 once the packages are installed; 5 when this machine cannot install packages (no
#   apt-get, or neither root nor a password-less sudo); 1 when apt-get failed (its last lines are
#   shown on stderr, all of them stay in LOG_DIR/apt-install.log). APT_PROBLEM then says why.

# shellcheck disable=SC2034 # read by the sourcing script
APT_PROBLEM=""
APT_AS_ROOT=()
APT_LOCK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.cache"

apt_install() {
  local dir="$1"; shift
  local log="$dir/apt-install.log" package unknown=0 status=0
  command -v apt-get >/dev/null || { APT_PROBLEM="there is no apt-get on this machine to install $*"; return 5; }
  if (( EUID != 0 )); then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      APT_AS_ROOT=(sudo -n)
    else
      APT_PROBLEM="installing $* needs root, and this user is not root and has no password-less sudo"
      return 5
    fi
  fi
  mkdir -p "$dir" || { APT_PROBLEM="cannot create $dir for the apt-get log"; return 1; }
  # Scripts provisioning at once (parallel test files) take turns; apt's own lock then waits for any
  # other apt user. The descriptor is closed before returning, so that no server started afterwards
  # holds the lock.
  if mkdir -p "$APT_LOCK_DIR" && exec 7>>"$APT_LOCK_DIR/apt-install.lock" && command -v flock >/dev/null; then flock 7; fi
  for package in "$@"; do
    apt-cache show "$package" >/dev/null 2>&1 || unknown=1
  done
  if (( unknown )); then apt_run "$log" update || status=1; fi
  if (( status == 0 )) && ! apt_run "$log" install -y --no-install-recommends "$@"; then
    status=1
    # Package lists older than the mirror name files it no longer has: refresh them once and retry.
    if (( ! unknown )) && apt_run "$log" update && apt_run "$log" install -y --no-install-recommends "$@"; then status=0; fi
  fi
  exec 7>&-
  if (( status != 0 )); then
    tail -n 20 "$log" >&2
    APT_PROBLEM="apt-get could not install $* (last lines above; all of them in $log)"
    return 1
  fi
}

# apt_run LOG ARGS...: one apt-get command as root, its output appended to LOG.
apt_run() {
  local log="$1"; shift
  echo "\$ apt-get $*" >>"$log"
  "${APT_AS_ROOT[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 "$@" >>"$log" 2>&1 </dev/null
}
