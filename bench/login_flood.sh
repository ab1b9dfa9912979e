#!/usr/bin/env bash
# Login flood on loopback: 64 concurrent wrong-password POST /login for
# DURATION seconds, while GET /healthz and POST /login/2fa are measured.
# Goal: their p99 stays under 20 ms and no request errors, because
# argon2 runs on the blocking pool, one hash per core, off the async runtime.
#
# Usage: bench/login_flood.sh [DURATION_SECONDS]   (needs wrk, curl; loopback only)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-20}"
PORT=18090
BASE="http://127.0.0.1:$PORT"
DATA="$(mktemp -d)"
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$DATA"' EXIT

cargo build --release -q -p twofactor
BIN="${CARGO_TARGET_DIR:-target}/release/twofactor"
# The flood comes from many clients behind a proxy on this machine
# (wrong_password.lua sets X-Forwarded-For), as an attack spread over
# addresses would: one address alone is paced (domain::lockout).
export TWOFACTOR_DATA_DIR="$DATA" TWOFACTOR_LISTEN="127.0.0.1:$PORT" TWOFACTOR_LOG=warn TWOFACTOR_TRUSTED_PROXIES=127.0.0.1
echo "correct horse battery staple" | "$BIN" user add alice --email alice@clinic.example --password-stdin >/dev/null
"$BIN" user enroll-totp alice >/dev/null
"$BIN" serve & SERVER=$!
for _ in $(seq 50); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done

JAR="$DATA/jar"
# Form tokens are read from the pages, as a browser does (bound to the session).
form_token() { sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1; }
CSRF=$(curl -s -c "$JAR" "$BASE/login" | form_token)
CSRF_COOKIE=$(awk '$6=="tf_csrf"{print $7}' "$JAR")
curl -s -b "$JAR" -c "$JAR" -o /dev/null \
  --data "username=alice&password=correct+horse+battery+staple&csrf_token=$CSRF" "$BASE/login"
SESSION=$(awk '$6=="tf_session"{print $7}' "$JAR")
TOKEN_CSRF=$(curl -s -b "$JAR" "$BASE/login/2fa" | form_token)
export CSRF CSRF_COOKIE SESSION TOKEN_CSRF

echo "== machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')"
echo "== alone: 64 connections POST /login (wrong password) for 10s (throughput)"
wrk -t2 -c64 -d10s --timeout 10s -s bench/wrong_password.lua "$BASE/login" > "$DATA/alone.txt"
echo "== flood: 64 connections POST /login (wrong password) for ${DURATION}s"
wrk -t2 -c64 -d"${DURATION}s" --timeout 10s --latency -s bench/wrong_password.lua "$BASE/login" > "$DATA/flood.txt" &
FLOOD=$!
sleep 2
echo "== during the flood: GET /healthz (2 connections)"
wrk -t1 -c2 -d"$((DURATION - 5))s" --timeout 5s --latency "$BASE/healthz" > "$DATA/health.txt" &
HEALTH=$!
echo "== during the flood: POST /login/2fa (2 connections)"
wrk -t1 -c2 -d"$((DURATION - 5))s" --timeout 5s --latency -s bench/wrong_token.lua "$BASE/login/2fa" > "$DATA/token.txt"
wait "$HEALTH" "$FLOOD"
for f in alone flood health token; do echo "--- $f"; cat "$DATA/$f.txt"; done
