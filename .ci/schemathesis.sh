#!/usr/bin/env bash
# Runs schemathesis (every check) against the live API on SQLite and on
# PostgreSQL. Fails on any 5xx, schema violation or contract break.
# Needs: the twofactor binary built in $CARGO_TARGET_DIR/debug, python3,
# psql/createdb (postgresql-client), PostgreSQL on 127.0.0.1:5432.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
target="${CARGO_TARGET_DIR:-target}"
bin="$target/debug/twofactor"
venv="${SCHEMATHESIS_VENV:-/var/cache/twofactor-schemathesis}"

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
"$venv/bin/schemathesis" --version

work="$(mktemp -d)"
server=""
cleanup() {
    if [[ -n "$server" ]]; then kill "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

run_against() {
    local name="$1" database_url="$2"
    local port
    port="$(free_port)"
    export TWOFACTOR_DATA_DIR="$work/$name"
    export TWOFACTOR_LISTEN="127.0.0.1:$port"
    export TWOFACTOR_API_REQUESTS_PER_MINUTE=1000000
    export TWOFACTOR_MASTER_KEY="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
    if [[ -n "$database_url" ]]; then
        export TWOFACTOR_DATABASE_URL="$database_url"
    else
        unset TWOFACTOR_DATABASE_URL
    fi
    mkdir -p "$TWOFACTOR_DATA_DIR"
    "$bin" migrate
    local key
    key="$("$bin" api-key create "schemathesis" 2>/dev/null)"
    "$bin" serve >"$work/$name.log" 2>&1 &
    server=$!
    for _ in $(seq 1 100); do
        if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
        sleep 0.1
    done
    echo "schemathesis against $name on port $port"
    "$venv/bin/schemathesis" run "http://127.0.0.1:$port/api/v1/openapi.json" \
        --header "Authorization: Bearer $key" \
        --checks all \
        --max-examples 40 \
        --seed 20261128 \
        --no-color
    kill "$server"
    wait "$server" 2>/dev/null || true
    server=""
}

run_against sqlite ""

pg_db="twofactor_schemathesis"
dropdb --if-exists -h 127.0.0.1 -U root "$pg_db"
createdb -h 127.0.0.1 -U root "$pg_db"
run_against postgres "postgres://root@127.0.0.1:5432/$pg_db"
dropdb --if-exists -h 127.0.0.1 -U root "$pg_db"
