#!/usr/bin/env bash
# Load on the OpenID Connect token endpoint over loopback: code exchanges
# (client_secret_basic, each code once) from 32 connections, on SQLite and
# on PostgreSQL. Each exchange claims the code, stores an access token,
# reads the user and signs the ID token (RS256, or ES256 with ALG=ES256).
#
# Usage: [ALG=ES256] bench/oidc_token.sh [CODES] [SECONDS]   (needs curl, wrk, createdb; loopback only)
set -euo pipefail
cd "$(dirname "$0")/.."
CODES_N="${1:-40000}"
SECONDS_RUN="${2:-10}"
PORT=18093
. bench/common.sh

bench() {
    local name="$1" url="$2"
    use_site "$name" "$url"
    export TWOFACTOR_OIDC_TOKEN_REQUESTS_PER_MINUTE=1000000
    start_server "$name.log"
    # Codes live 60 seconds: seeded with the server up, exchanged at once.
    local seeded id secret
    seeded=$("$LOAD" seed-oidc "$CODES_N" "$DATA/codes" "${ALG:-RS256}")
    id=$(sed -n 's/^CLIENT_ID=//p' <<<"$seeded")
    secret=$(sed -n 's/^CLIENT_SECRET=//p' <<<"$seeded")
    echo "== $name: code exchanges (${ALG:-RS256}), wrk 1 thread, 32 connections, ${SECONDS_RUN}s"
    BASIC="$(printf '%s:%s' "$id" "$secret" | base64 -w0)" CODES="$DATA/codes" \
        REDIRECT="https%3A%2F%2Fbench.clinic.example%2Fcb" \
        wrk -t1 -c32 -d"${SECONDS_RUN}s" --latency -s bench/oidc_token.lua "$BASE" | grep '^RESULT'
    stop_server
}

bench sqlite ""
bench postgres "$(fresh_database twofactor_oidc_bench)"
dropdb --if-exists -h 127.0.0.1 -U root twofactor_oidc_bench
