#!/bin/sh
# Installs Debian's redis-server (for the distributed-queue tests, test/redis-*.test.ts, and for
# `styleloom serve --redis`) when redis-server is missing. Idempotent: does nothing when it is there.
# Needs root or sudo and apt-get (Debian/Ubuntu); otherwise says so and exits 1. The package's own
# service is not needed: the tests start a private redis-server on a free loopback port.
set -eu

if command -v redis-server >/dev/null 2>&1; then
  echo "install-redis: $(command -v redis-server) is already installed ($(redis-server --version 2>/dev/null | cut -d' ' -f1-3))"
  exit 0
fi

fail() {
  echo "install-redis: $1" >&2
  echo "install-redis: install it by hand (Debian/Ubuntu: sudo apt-get install redis-server) so that redis-server is on the PATH, then run the tests again" >&2
  exit 1
}

echo "install-redis: redis-server is missing; installing Debian's redis-server with apt-get"
sh "$(dirname "$0")/apt-install.sh" install-redis redis-server || exit 1

command -v redis-server >/dev/null 2>&1 || fail "apt-get finished but redis-server is still not on the PATH"
echo "install-redis: installed $(redis-server --version 2>/dev/null | cut -d' ' -f1-3)"
