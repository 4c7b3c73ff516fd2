#!/usr/bin/env bash
# Makes sure what the test suite talks to is there, installing from Debian's packages when not:
#   - Chromium, for the browser tests (Playwright drives Debian's build; it cannot download its own);
#   - PostgreSQL on 127.0.0.1:5432 with a database "test" reachable as "postgres" without a password;
#   - Redis on 127.0.0.1:6379, for the shared HTTP cache tests.
set -euo pipefail

apt_install() {
  if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests"
  apt_install chromium
fi

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "installing PostgreSQL for the engine tests"
  apt_install postgresql
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "starting PostgreSQL"
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  if ! grep -q "reel-studio-tests" "$hba"; then
    # Local test server only: trust loopback connections, as the suite expects.
    printf '# reel-studio-tests\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n' \
      | cat - "$hba" > "$hba.new" && mv "$hba.new" "$hba"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! psql -h 127.0.0.1 -U postgres -tAc "select 1" test >/dev/null 2>&1; then
  psql -h 127.0.0.1 -U postgres -c "create database test" >/dev/null
fi

if ! command -v redis-server >/dev/null 2>&1; then
  echo "installing Redis for the cache tests"
  apt_install redis-server
fi
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  echo "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi
