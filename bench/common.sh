# Shared by the load scripts in bench/ (sourced, after PORT is set): builds
# the release binary and the load tool, makes a scratch directory that is
# removed on exit together with any server still running, says which
# machine this is, and gives the steps every script takes.
BASE="http://127.0.0.1:$PORT"
DATA="$(mktemp -d)"
SERVER=""
trap '[[ -n "$SERVER" ]] && kill "$SERVER" 2>/dev/null; rm -rf "$DATA"' EXIT

cargo build --release -q -p twofactor --bin twofactor
cargo build --release -q -p testkit --example verify_load
TARGET="${CARGO_TARGET_DIR:-target}/release"
LOAD="$TARGET/examples/verify_load"
echo "== machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/^Mem:/{print $2}') GiB, $(date -u +%F)"
# form_token: the CSRF field of the page on standard input (form tokens are
# bound to the session, so they are read from the pages, as a browser does).
form_token() { sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1; }

# use_site NAME URL: settings for a fresh data directory NAME, on SQLite
# (URL empty) or the database at URL, migrated. No API rate limit.
use_site() {
    export TWOFACTOR_DATA_DIR="$DATA/$1" TWOFACTOR_LISTEN="127.0.0.1:$PORT" TWOFACTOR_LOG=warn
    export TWOFACTOR_API_REQUESTS_PER_MINUTE=1000000 TWOFACTOR_SMS_PROVIDER=log
    export TWOFACTOR_METRICS_TOKEN=bench-metrics-token-0001
    if [[ -n "$2" ]]; then export TWOFACTOR_DATABASE_URL="$2"; else unset TWOFACTOR_DATABASE_URL; fi
    mkdir -p "$TWOFACTOR_DATA_DIR"
    "$TARGET/twofactor" migrate >/dev/null
}

# fresh_database NAME: drops and creates database NAME on the local
# PostgreSQL server; prints its URL.
fresh_database() {
    dropdb --if-exists -h 127.0.0.1 -U root "$1" 2>/dev/null
    createdb -h 127.0.0.1 -U root "$1"
    echo "postgres://root@127.0.0.1:5432/$1"
}

# start_server LOG: `twofactor serve` in the background (output to
# $DATA/LOG), returning once /readyz answers 200.
start_server() {
    "$TARGET/twofactor" serve >"$DATA/$1" 2>&1 & SERVER=$!
    for _ in $(seq 2000); do
        curl -sf "$BASE/readyz" >/dev/null && return
        sleep 0.005
    done
    echo "the server did not become ready; its log:" >&2
    cat "$DATA/$1" >&2
    return 1
}

stop_server() {
    kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
}
