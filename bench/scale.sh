#!/usr/bin/env bash
# Cost as the work grows: verification latency with 1,000
# and with 1,000,000 enrolled users, on SQLite and PostgreSQL. The same
# workload each time: wrk, 64 connections, 2 s of wrong codes spread over
# the first 1,000 users (at most ~9 per user: below the lock), so only the
# size of the tables differs. Loopback only; bounded in time.
#
# Usage: bench/scale.sh [BIG]   (default 1000000; needs wrk, createdb)
set -euo pipefail
cd "$(dirname "$0")/.."
BIG="${1:-1000000}"
PORT=18094
. bench/common.sh

run() {
    local name="$1" url="$2" users="$3"
    use_site "$name-$users" "$url"
    local first key
    first=$("$LOAD" seed "$users" | tee >(cat >&2) | sed -n 's/^FIRST_ID=//p')
    key=$("$TARGET/twofactor" api-key create bench 2>/dev/null)
    "$LOAD" codes 1000 "$first" >"$DATA/codes"
    start_server "$name.log"
    echo "== $name, $users users: wrong codes for the first 1,000, wrk 64 connections, 2 s"
    KEY="$key" CODES="$DATA/codes" MODE=wrong THREADS=2 \
        wrk -t2 -c64 -d2s --latency -s bench/verify.lua "$BASE" | grep '^RESULT'
    stop_server
}

for users in 1000 "$BIG"; do
    run sqlite "" "$users"
    run postgres "$(fresh_database twofactor_scale)" "$users"
    dropdb --if-exists -h 127.0.0.1 -U root twofactor_scale
done
