#!/usr/bin/env bash
# What one statement costs PostgreSQL on this machine when statements come
# one at a time, as a login's do, against when they come back to back.
#
# A full login on PostgreSQL is three statements about 10 ms apart (the
# password step's read, its write of the half login after the hash, the
# code step's claim). Between them the backend sleeps and argon2 fills the
# caches, so each one is paid cold: a statement costs its backend several
# times more CPU at 100 a second than back to back (the figures are in
# docs/benchmarks-log.md). This script
# measures that floor for a trivial statement and a trivial durable write,
# so a VM's figure can be told from the server's.
#
# Usage: bench/pg_floor.sh [SECONDS]   (needs pgbench, createdb; ~1 min at 6)
# Backend CPU is read from /proc/<pid>/schedstat (exact on-CPU time), so
# the script must run on the database's machine.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN="${1:-6}"
[[ "$RUN" =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/pg_floor.sh [SECONDS] (a whole number of seconds, at least 1)" >&2; exit 2; }
DB=twofactor_floor
HOST=127.0.0.1
DATA="$(mktemp -d)"
trap 'rm -rf "$DATA"; dropdb --if-exists -h "$HOST" -U root "$DB" 2>/dev/null || true' EXIT
command -v pgbench >/dev/null || { echo "pgbench is missing (Debian: postgresql-client)" >&2; exit 1; }

dropdb --if-exists -h "$HOST" -U root "$DB" 2>/dev/null
createdb -h "$HOST" -U root "$DB"
psql -q -h "$HOST" -U root "$DB" -c "CREATE TABLE t (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, a BIGINT NOT NULL, b TEXT NOT NULL)"
echo 'SELECT 1;' >"$DATA/select.sql"
echo "INSERT INTO t (a, b) VALUES (1, 'x');" >"$DATA/insert.sql"
echo "== machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), PostgreSQL $(psql -Atq -h "$HOST" -U root "$DB" -c 'SHOW server_version'), $(date -u +%F)"

# on_cpu_ns: the on-CPU nanoseconds so far of database $DB's backends;
# stops the script if there are none to read (PostgreSQL on another
# machine, or pgbench not connected).
on_cpu_ns() {
    local pids
    pids=$(pgrep -f "^postgres: .* $DB " || true)
    if [[ -z "$pids" ]]; then
        echo "no PostgreSQL backend of database $DB on this machine: run the script where the database runs" >&2
        return 1
    fi
    awk '{s += $1} END {print s + 0}' $(printf '/proc/%s/schedstat ' $pids)
}

# measure NAME SCRIPT RATE: two pgbench clients, RATE transactions a second
# in all ("max": back to back); the backends' CPU over the middle of the run.
measure() {
    local limit=() tps before after
    [[ "$3" != max ]] && limit=(-R "$3")
    pgbench -h "$HOST" -U root -n -M prepared -c 2 -j 1 "${limit[@]}" -T "$((RUN + 2))" \
        -f "$2" "$DB" >"$DATA/out" 2>&1 &
    local bench=$!
    sleep 1
    if ! kill -0 "$bench" 2>/dev/null; then
        echo "pgbench stopped at once:" >&2
        cat "$DATA/out" >&2
        exit 1
    fi
    before=$(on_cpu_ns) || { kill "$bench" 2>/dev/null; exit 1; }
    sleep "$RUN"
    after=$(on_cpu_ns) || { kill "$bench" 2>/dev/null; exit 1; }
    wait "$bench" || { echo "pgbench failed:" >&2; cat "$DATA/out" >&2; exit 1; }
    tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$DATA/out")
    awk -v name="$1" -v rate="$3" -v tps="$tps" -v ns="$((after - before))" -v secs="$RUN" \
        'BEGIN {printf "RESULT %-22s at %5s/s: %8.0f/s done, backend CPU %.3f ms a statement\n", name, rate, tps, ns / 1e6 / (tps * secs)}'
}

for rate in 100 1000 max; do
    measure "SELECT 1" "$DATA/select.sql" "$rate"
done
for rate in 100 1000 max; do
    measure "one-row INSERT, commit" "$DATA/insert.sql" "$rate"
done
