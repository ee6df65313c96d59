#!/usr/bin/env bash
# Make sure the test suite's servers answer: PostgreSQL on 127.0.0.1:5432 (user postgres,
# trusted from localhost) and Redis on 127.0.0.1:6379. When one is already up (the usual case on
# the development and CI machines) this only says so. Otherwise it installs the Debian package if
# it is missing, starts the server, and waits (bounded) until it answers.
#
# Exports nothing: the tests read TEST_DATABASE_URL (default
# postgresql+asyncpg://postgres@127.0.0.1:5432/postgres) and TEST_REDIS_URL (default
# redis://127.0.0.1:6379/15).
set -euo pipefail

readonly PG_HOST=127.0.0.1 PG_PORT=5432
readonly REDIS_HOST=127.0.0.1 REDIS_PORT=6379
readonly WAIT_SECONDS=30

SCRIPT_NAME=ensure-services
# shellcheck source=scripts/lib-apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-apt.sh"

# Run "$@" once a second until it succeeds, for at most WAIT_SECONDS.
wait_until() {
    local what=$1
    shift
    local i
    for ((i = 0; i < WAIT_SECONDS; i++)); do
        if "$@"; then
            return 0
        fi
        sleep 1
    done
    die "$what did not answer within ${WAIT_SECONDS}s"
}

pg_answers() {
    command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h "$PG_HOST" -p "$PG_PORT"
}

redis_answers() {
    command -v redis-cli >/dev/null 2>&1 &&
        [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]
}

pg_version() {
    # The newest installed cluster version (the directory names under /etc/postgresql).
    find /etc/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null |
        sort -V | tail -n 1
}

# Trust local TCP connections (127.0.0.1 and ::1) in a cluster this script created.
pg_trust_localhost() {
    local hba="/etc/postgresql/$1/main/pg_hba.conf"
    [ -f "$hba" ] || die "no $hba"
    as_root sed -i -E \
        's#^(host[[:space:]]+all[[:space:]]+all[[:space:]]+(127\.0\.0\.1/32|::1/128)[[:space:]]+)[^[:space:]]+#\1trust#' \
        "$hba"
}

ensure_postgres() {
    if pg_answers; then
        say "PostgreSQL answers on $PG_HOST:$PG_PORT"
        return 0
    fi
    local created=0 version
    if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(pg_version)" ]; then
        apt_install postgresql
        created=1
    fi
    version=$(pg_version)
    [ -n "$version" ] || die "PostgreSQL is installed but has no cluster under /etc/postgresql"
    if [ "$created" -eq 1 ]; then
        pg_trust_localhost "$version"
    fi
    # The package's own start may have run already (then the new pg_hba.conf needs a reload).
    if as_root pg_ctlcluster --skip-systemctl-redirect "$version" main status >/dev/null 2>&1; then
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
    else
        say "starting PostgreSQL $version"
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
    fi
    wait_until "PostgreSQL on $PG_HOST:$PG_PORT" pg_answers
    say "PostgreSQL answers on $PG_HOST:$PG_PORT"
}

ensure_redis() {
    if redis_answers; then
        say "Redis answers on $REDIS_HOST:$REDIS_PORT"
        return 0
    fi
    if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
        apt_install redis-server
    fi
    # The package may have started its own server already.
    if ! redis_answers; then
        as_root mkdir -p /var/lib/redis /var/log/redis
        say "starting Redis"
        as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" \
            --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
    fi
    wait_until "Redis on $REDIS_HOST:$REDIS_PORT" redis_answers
    say "Redis answers on $REDIS_HOST:$REDIS_PORT"
}

ensure_postgres
ensure_redis
