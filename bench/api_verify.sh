#!/usr/bin/env bash
# Load on the verification API over loopback: POST /api/v1/users/{id}/verify
# from 64 concurrent clients, wrong codes then right codes, on SQLite and on
# PostgreSQL. Every verification is audited and replay-checked as usual.
# Goal: 5,000/s with p99 under 25 ms on 2 cores.
#
# Usage: bench/api_verify.sh [USERS] [SECONDS]   (needs curl, wrk, createdb; loopback only)
set -euo pipefail
cd "$(dirname "$0")/.."
USERS="${1:-240000}"
SECONDS_RUN="${2:-10}"
PORT=18091
. bench/common.sh

bench() {
    local name="$1" url="$2"
    use_site "$name" "$url"
    local first
    first=$("$LOAD" seed "$USERS" | tee >(cat >&2) | sed -n 's/^FIRST_ID=//p')
    local key
    key=$("$TARGET/twofactor" api-key create bench 2>/dev/null)
    start_server "$name.log"
    # wrk (1 thread, 64 connections): light enough to leave the cores to
    # the server, and clocked from its first request (with two threads the
    # first one sends while the second loads the codes, before wrk's clock
    # starts; see bench/load.sh). Right codes: each user's current code,
    # sent once.
    "$LOAD" codes "$USERS" "$first" >"$DATA/codes"
    for mode in wrong right; do
        echo "== $name: $mode codes, wrk 1 thread, 64 connections, ${SECONDS_RUN}s"
        KEY="$key" CODES="$DATA/codes" MODE="$mode" THREADS=1 \
            wrk -t1 -c64 -d"${SECONDS_RUN}s" --latency -s bench/verify.lua "$BASE" | grep '^RESULT'
    done
    stop_server
}

bench sqlite ""
bench postgres "$(fresh_database twofactor_bench)"
dropdb --if-exists -h 127.0.0.1 -U root twofactor_bench
