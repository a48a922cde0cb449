#!/usr/bin/env bash
# Prints the path of a usable promtool (Prometheus's rule checker and rule tester) on stdout: the
# one on PATH, else the one Debian's `prometheus` package installs, installing it with apt-get
# (through sudo when not root) when it is missing.
#
# Usage: scripts/promtool.sh
# Environment: PROMTOOL_CACHE_DIR (.cache/promtool) keeps the apt-get log.
#
# Exit status: 0 with the path on stdout; 5 when promtool is missing and this machine cannot
# install it (no apt-get, or neither root nor sudo); 1 when it is missing and installing failed.
# Progress goes to stderr, and a failure ends with one line "promtool.sh: error: <reason>".
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${PROMTOOL_CACHE_DIR:-$ROOT/.cache/promtool}"
# shellcheck source=scripts/apt-install.sh
source "$ROOT/scripts/apt-install.sh"

log() { echo "promtool.sh: $*" >&2; }
fail() { local code="$1"; shift; echo "promtool.sh: error: $*" >&2; exit "$code"; }

# The path of a promtool that runs, or nothing.
usable_promtool() {
  local path
  path="$(command -v promtool)" || return 0
  "$path" --version >/dev/null 2>&1 && echo "$path"
  return 0
}

found="$(usable_promtool)"
if [[ -z $found ]]; then
  log "promtool is not on PATH; installing Debian's prometheus package (log: $CACHE_DIR/apt-install.log)"
  status=0
  apt_install "$CACHE_DIR" prometheus || status=$?
  (( status == 0 )) || fail "$status" "$APT_PROBLEM"
  found="$(usable_promtool)"
  [[ -n $found ]] || fail 1 "Debian's prometheus package is installed, yet no working promtool is on PATH ($PATH)"
  log "installed $found"
fi
echo "$found"
