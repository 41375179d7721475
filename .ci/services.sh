#!/usr/bin/env bash
# Installs (from Debian's packages) and starts the services the tests need, as root:
# PostgreSQL on 127.0.0.1:5432 with trust auth for user postgres and a database `test`.
# Idempotent; a service that cannot be brought up stops the script with its name.
set -euo pipefail

fail() { echo "services: $*" >&2; exit 1; }

apt_updated=""
apt_install() {
    [ -n "$apt_updated" ] || { apt-get update -qq || fail "apt-get update failed"; apt_updated=1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
        || fail "could not install $*"
}

# PostgreSQL
if ! ls /etc/postgresql/*/main/postgresql.conf >/dev/null 2>&1; then
    command -v pg_ctlcluster >/dev/null || apt_install postgresql
    ls /etc/postgresql/*/main/postgresql.conf >/dev/null 2>&1 \
        || pg_createcluster "$(ls /usr/lib/postgresql | sort -n | tail -1)" main \
        || fail "PostgreSQL: could not create a cluster"
fi
pg_version="$(ls /etc/postgresql | sort -n | tail -1)"
hba="/etc/postgresql/$pg_version/main/pg_hba.conf"
if ! grep -q '^host all postgres 127.0.0.1/32 trust' "$hba"; then
    # first matching line wins: trust postgres on loopback ahead of the packaged rules
    sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" main reload 2>/dev/null || true
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start \
        || fail "PostgreSQL $pg_version: the cluster did not start (see /var/log/postgresql/)"
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
    pg_isready -q -h 127.0.0.1 -p 5432 || fail "PostgreSQL is not answering on 127.0.0.1:5432"
fi
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE test" \
    || fail "PostgreSQL: could not create the database test"
echo "services: PostgreSQL $pg_version ready on 127.0.0.1:5432 (database test)"
