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

echo "install-chromium: $CHROMIUM is missing; installing Debian's chromium with apt-get (a few minutes)"
sh "$(dirname "$0")/apt-install.sh" install-chromium chromium fonts-liberation || exit 1

[ -x "$CHROMIUM" ] || fail "apt-get finished but $CHROMIUM is still missing (on Ubuntu, chromium may be a snap stub)"
echo "install-chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
