#!/bin/sh
# Installs Debian packages for the scripts/install-*.sh, one apt run at a time: the test files run in parallel and
# several may need a package on a fresh machine, so each waits for the others (and for any other apt or dpkg).
# Usage: apt-install.sh WHO PACKAGE...  (WHO prefixes the messages). Needs apt-get and root or password-less sudo.
set -eu

WHO=$1
shift
PKGS="$*"
fail() {
  echo "$WHO: $1" >&2
  echo "$WHO: install it by hand (Debian/Ubuntu: sudo apt-get install $PKGS), then run again" >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "apt-get not found: this script only knows Debian/Ubuntu"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  fail "not root and no password-less sudo: cannot run apt-get"
fi

# one styleloom install at a time (flock from util-linux; without it, apt's own lock timeout below still waits)
LOCK=${TMPDIR:-/tmp}/styleloom-apt.lock
if command -v flock >/dev/null 2>&1; then
  exec 9>>"$LOCK"
  flock -w 1800 9 || fail "waited 30 min for another styleloom install (lock $LOCK)"
fi

export DEBIAN_FRONTEND=noninteractive
WAIT="-o DPkg::Lock::Timeout=900"
$SUDO apt-get $WAIT update -q || fail "apt-get update failed (no network or no package mirror?)"
$SUDO apt-get $WAIT install -y -q --no-install-recommends "$@" || fail "apt-get install $PKGS failed"
