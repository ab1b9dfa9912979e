#!/usr/bin/env bash
# Cost as the work grows (issue #9 point 4): verification latency with 1,000
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
BASE="http://127.0.0.1:$PORT"
DATA="$(mktemp -d)"
SERVER=""
trap '[[ -n "$SERVER" ]] && kill "$SERVER" 2>/dev/null; rm -rf "$DATA"' EXIT

cargo build --release -q -p twofactor --bin twofactor
cargo build --release -q -p testkit --example verify_load
TARGET="${CARGO_TARGET_DIR:-target}/release"
echo "== machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%F)"

run() {
    local name="$1" url="$2" users="$3"
    export TWOFACTOR_DATA_DIR="$DATA/$name-$users" TWOFACTOR_LISTEN="127.0.0.1:$PORT" TWOFACTOR_LOG=warn
    export TWOFACTOR_API_REQUESTS_PER_MINUTE=1000000 TWOFACTOR_SMS_PROVIDER=log
    if [[ -n "$url" ]]; then export TWOFACTOR_DATABASE_URL="$url"; else unset TWOFACTOR_DATABASE_URL; fi
    mkdir -p "$TWOFACTOR_DATA_DIR"
    "$TARGET/twofactor" migrate >/dev/null
    local first key
    first=$("$TARGET/examples/verify_load" seed "$users" | tee /dev/stderr | sed -n 's/^FIRST_ID=//p')
    key=$("$TARGET/twofactor" api-key create bench 2>/dev/null)
    "$TARGET/examples/verify_load" codes 1000 "$first" >"$DATA/codes"
    "$TARGET/twofactor" serve >"$DATA/$name.log" 2>&1 & SERVER=$!
    for _ in $(seq 100); do curl -sf "$BASE/readyz" >/dev/null && break; sleep 0.1; done
    echo "== $name, $users users: wrong codes for the first 1,000, wrk 64 connections, 2 s"
    KEY="$key" CODES="$DATA/codes" MODE=wrong THREADS=2 \
        wrk -t2 -c64 -d2s --latency -s bench/verify.lua "$BASE" | grep '^RESULT'
    kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
}

for users in 1000 "$BIG"; do
    run sqlite "" "$users"
    dropdb --if-exists -h 127.0.0.1 -U root twofactor_scale 2>/dev/null
    createdb -h 127.0.0.1 -U root twofactor_scale
    run postgres "postgres://root@127.0.0.1:5432/twofactor_scale" "$users"
    dropdb --if-exists -h 127.0.0.1 -U root twofactor_scale
done
