#!/usr/bin/env bash
# Load on the verification API over loopback: POST /api/v1/users/{id}/verify
# from 64 concurrent clients, wrong codes then right codes, on SQLite and on
# PostgreSQL. Every verification is audited and replay-checked as usual.
# Goal (issue #8): 5,000/s with p99 under 25 ms on 2 cores.
#
# Usage: bench/api_verify.sh [USERS] [SECONDS]   (needs curl, wrk, createdb; loopback only)
set -euo pipefail
cd "$(dirname "$0")/.."
USERS="${1:-60000}"
SECONDS_RUN="${2:-10}"
PORT=18091
BASE="http://127.0.0.1:$PORT"
DATA="$(mktemp -d)"
SERVER=""
trap '[[ -n "$SERVER" ]] && kill "$SERVER" 2>/dev/null; rm -rf "$DATA"' EXIT

cargo build --release -q -p twofactor --bin twofactor
cargo build --release -q -p testkit --example verify_load
TARGET="${CARGO_TARGET_DIR:-target}/release"
echo "== machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%F)"

bench() {
    local name="$1" url="$2"
    export TWOFACTOR_DATA_DIR="$DATA/$name" TWOFACTOR_LISTEN="127.0.0.1:$PORT" TWOFACTOR_LOG=warn
    export TWOFACTOR_API_REQUESTS_PER_MINUTE=1000000 TWOFACTOR_SMS_PROVIDER=log
    if [[ -n "$url" ]]; then export TWOFACTOR_DATABASE_URL="$url"; else unset TWOFACTOR_DATABASE_URL; fi
    mkdir -p "$TWOFACTOR_DATA_DIR"
    "$TARGET/twofactor" migrate >/dev/null
    local first
    first=$("$TARGET/examples/verify_load" seed "$USERS" | tee /dev/stderr | sed -n 's/^FIRST_ID=//p')
    local key
    key=$("$TARGET/twofactor" api-key create bench 2>/dev/null)
    "$TARGET/twofactor" serve >"$DATA/$name.log" 2>&1 & SERVER=$!
    for _ in $(seq 50); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done
    # wrk (2 threads, 64 connections): light enough to leave the cores to
    # the server. Right codes: each user's current code, sent once.
    "$TARGET/examples/verify_load" codes "$USERS" "$first" >"$DATA/codes"
    for mode in wrong right; do
        echo "== $name: $mode codes, wrk, 64 connections, ${SECONDS_RUN}s"
        KEY="$key" CODES="$DATA/codes" MODE="$mode" THREADS=2 \
            wrk -t2 -c64 -d"${SECONDS_RUN}s" --latency -s bench/verify.lua "$BASE" | grep '^RESULT'
    done
    kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
}

bench sqlite ""
dropdb --if-exists -h 127.0.0.1 -U root twofactor_bench
createdb -h 127.0.0.1 -U root twofactor_bench
bench postgres "postgres://root@127.0.0.1:5432/twofactor_bench"
dropdb --if-exists -h 127.0.0.1 -U root twofactor_bench
