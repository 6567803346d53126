#!/bin/sh
# Installs Debian's chromium (for the web page's end-to-end test, test/web-e2e.test.ts) when
# /usr/bin/chromium is missing. Idempotent: does nothing when it is there. Needs root or sudo and
# apt-get (Debian/Ubuntu); otherwise says so and exits 1.
set -eu

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  echo "install-chromium: $CHROMIUM is already installed ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

fail() {
  echo "install-chromium: $1" >&2
  echo "install-chromium: install it by hand (Debian/Ubuntu: sudo apt-get install chromium) so that $CHROMIUM exists, then run the tests again" >&2
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

echo "install-chromium: $CHROMIUM is missing; installing Debian's chromium with apt-get (a few minutes)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q || fail "apt-get update failed (no network or no package mirror?)"
$SUDO apt-get install -y -q --no-install-recommends chromium fonts-liberation \
  || fail "apt-get install chromium failed"

[ -x "$CHROMIUM" ] || fail "apt-get finished but $CHROMIUM is still missing (on Ubuntu, chromium may be a snap stub)"
echo "install-chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
