#!/usr/bin/env bash
# Runs every command block of docs/operations.md, in order, in one shell,
# as the guide's reader would: every command in the guide is exercised.
# The guide's paths are moved under a temporary directory, its
# ports onto free loopback ports, its database onto a fresh one on the test
# server; `systemctl` starts and stops the units' ExecStart directly (there
# is no systemd here) as the units' User=, nginx runs on its own config
# with a self-signed certificate the guide's curl commands trust, and
# `systemd-analyze verify` checks the unit files where it is available.
# Afterwards it checks that the administrator still logs in with the
# authenticator linked before the master key rotation.
#
# Usage: .ci/operations-guide.sh   (root; needs nginx, openssl, sqlite3,
# PostgreSQL clients and server on 127.0.0.1:5432, oathtool, curl)
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${CARGO_TARGET_DIR:-target}"
cargo build -q -p twofactor --bin twofactor
BIN="$(cd "$TARGET/debug" && pwd)/twofactor"

ROOT="$(mktemp -d)"
chmod 755 "$ROOT"
DB="tf_guide_$$"
# All five ports come from one process that holds every socket open until it
# has them all, so no two of them can be the same port (picked one by one,
# the kernel could hand the same ephemeral port out twice).
read -r P0 P1 P2 PHTTP PHTTPS < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(5)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')
[[ -n "$PHTTPS" ]] || { echo "could not pick five free loopback ports" >&2; exit 1; }
export ROOT BIN DB P0 P1 P2 PHTTP PHTTPS

cleanup() {
    for pid in "$ROOT"/run/*.pid; do [[ -e "$pid" ]] && kill "$(cat "$pid")" 2>/dev/null || true; done
    [[ -s "$ROOT/run/nginx.pid" ]] && nginx -c "$ROOT/etc/nginx/nginx.conf" -s quit 2>/dev/null || true
    dropdb --if-exists -h 127.0.0.1 -U root "$DB" 2>/dev/null || true
    rm -rf "$ROOT"
}
trap cleanup EXIT

# The guide's paths and ports, moved into the sandbox.
sandbox() {
    sed -e "s#/usr/local/bin/twofactor#$ROOT/usr/local/bin/twofactor#g" \
        -e "s#/etc/twofactor#$ROOT/etc/twofactor#g" \
        -e "s#/etc/systemd/system#$ROOT/etc/systemd/system#g" \
        -e "s#/var/lib/twofactor#$ROOT/var/lib/twofactor#g" \
        -e "s#/var/backups/twofactor#$ROOT/var/backups/twofactor#g" \
        -e "s#/etc/nginx/conf.d#$ROOT/etc/nginx/conf.d#g" \
        -e "s#/etc/ssl/twofactor#$ROOT/etc/ssl/twofactor#g" \
        -e "s#target/release/twofactor#$BIN#g" \
        -e "s#127.0.0.1:8080#127.0.0.1:$P0#g" \
        -e "s#127.0.0.1:8081#127.0.0.1:$P1#g" \
        -e "s#127.0.0.1:8082#127.0.0.1:$P2#g" \
        -e "s#listen 80;#listen 127.0.0.1:$PHTTP;#" \
        -e "s#listen 443 ssl;#listen 127.0.0.1:$PHTTPS ssl;#" \
        -e "s#login.clinic.example:443:127.0.0.1 https://login.clinic.example/#login.clinic.example:$PHTTPS:127.0.0.1 https://login.clinic.example:$PHTTPS/#g" \
        -e "s#twofactor_prod#$DB#g"
}

mkdir -p "$ROOT"/{usr/local/bin,etc/systemd/system,etc/nginx/conf.d,etc/ssl/twofactor,run}
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=login.clinic.example \
    -addext subjectAltName=DNS:login.clinic.example \
    -keyout "$ROOT/etc/ssl/twofactor/privkey.pem" -out "$ROOT/etc/ssl/twofactor/fullchain.pem" 2>/dev/null
cat >"$ROOT/etc/nginx/nginx.conf" <<NGINX
worker_processes 1;
pid $ROOT/run/nginx.pid;
error_log $ROOT/run/nginx-error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $ROOT/run/body;
    proxy_temp_path $ROOT/run/proxy;
    fastcgi_temp_path $ROOT/run/fastcgi;
    uwsgi_temp_path $ROOT/run/uwsgi;
    scgi_temp_path $ROOT/run/scgi;
    include $ROOT/etc/nginx/conf.d/*.conf;
}
NGINX

# The script: shims, then each block of the guide in order.
SCRIPT="$ROOT/guide.sh"
{
    cat <<'SHIMS'
set -euo pipefail
export CURL_CA_BUNDLE="$ROOT/etc/ssl/twofactor/fullchain.pem"
export PATH="$ROOT/usr/local/bin:$PATH"
nginx() { command nginx -c "$ROOT/etc/nginx/nginx.conf" "$@"; }
ports() { sed -e "s#127.0.0.1:8080\$#127.0.0.1:$P0#" -e "s#127.0.0.1:8081\$#127.0.0.1:$P1#" -e "s#127.0.0.1:8082\$#127.0.0.1:$P2#"; }
unit_value() { sed -n "s/^$2=//p" "$1" | sed "s/%i/$3/g" | ports; }
start_unit() {
    local unit="$1" file instance=""
    case "$unit" in
        nginx) if [[ -s "$ROOT/run/nginx.pid" ]]; then nginx -s reload; else nginx; fi; return ;;
        *@*) instance="${unit#*@}"; file="$ROOT/etc/systemd/system/${unit%@*}@.service" ;;
        *) file="$ROOT/etc/systemd/system/$unit.service" ;;
    esac
    local user exec listen
    user=$(unit_value "$file" User "$instance")
    exec=$(unit_value "$file" ExecStart "$instance")
    (
        set -a
        . "$(unit_value "$file" EnvironmentFile "$instance")"
        while IFS= read -r assignment; do export "$assignment"; done < <(unit_value "$file" Environment "$instance")
        set +a
        exec runuser -u "$user" -- $exec >"$ROOT/run/$unit.log" 2>&1
    ) & echo $! >"$ROOT/run/$unit.pid"
    listen=$(unit_value "$file" Environment "$instance" | sed -n 's/^TWOFACTOR_LISTEN=//p')
    [[ -n "$listen" ]] || listen=$(sed -n 's/^TWOFACTOR_LISTEN=//p' "$(unit_value "$file" EnvironmentFile "$instance")")
    for _ in $(seq 100); do curl -sf "http://$listen/readyz" >/dev/null && return; sleep 0.1; done
    echo "$unit did not become ready on $listen:"; cat "$ROOT/run/$unit.log"; return 1
}
stop_unit() {
    local pid="$ROOT/run/$1.pid"
    [[ -e "$pid" ]] || return 0
    kill "$(cat "$pid")" 2>/dev/null || true
    while kill -0 "$(cat "$pid")" 2>/dev/null; do sleep 0.05; done
    rm -f "$pid"
}
systemctl() {
    local action="$1"; shift
    local now=""
    [[ "${1:-}" == --now ]] && { now=1; shift; }
    case "$action" in
        daemon-reload)
            if command -v systemd-analyze >/dev/null; then
                for f in "$ROOT"/etc/systemd/system/*.service; do
                    if [[ "$f" == *@.service ]]; then
                        # A template is checked as its first instance.
                        mkdir -p "$ROOT/run/verify"
                        local one="$ROOT/run/verify/$(basename "${f%@.service}")@1.service"
                        sed 's/%i/1/g' "$f" >"$one"
                        f="$one"
                    fi
                    systemd-analyze verify "$f"
                    echo "systemd-analyze verify $(basename "$f"): ok"
                done
            fi ;;
        enable) [[ -n "$now" ]] && for u; do start_unit "$u"; done ;;
        disable) [[ -n "$now" ]] && for u; do stop_unit "$u"; done ;;
        start) for u; do start_unit "$u"; done ;;
        stop) for u; do stop_unit "$u"; done ;;
        restart) for u; do stop_unit "$u"; start_unit "$u"; done ;;
        reload) for u; do start_unit "$u"; done ;;
        *) echo "systemctl shim: $action?"; return 1 ;;
    esac
}
SHIMS
    # Blocks: ```sh runs; ```ini/```nginx file=NAME is written where the
    # guide says it goes (the path in the text before it).
    sandbox <docs/operations.md | awk '
        /^```sh$/ { inblock = "sh"; print "echo \"--- guide block " ++n "\""; next }
        /^```[a-z]+ file=/ { split($2, f, "="); name = f[2]; inblock = "file";
            dest = (name ~ /\.service$/) ? ENVIRON["ROOT"] "/etc/systemd/system/" name : ENVIRON["ROOT"] "/etc/nginx/conf.d/" name;
            print "cat > \"" dest "\" <<'"'"'__GUIDE_FILE__'"'"'"; next }
        /^```$/ && inblock { if (inblock == "file") print "__GUIDE_FILE__"; inblock = ""; next }
        inblock { print }
    '
} >"$SCRIPT"

echo "== running docs/operations.md ($(grep -c 'guide block' "$SCRIPT") blocks) in $ROOT"
if ! bash "$SCRIPT" 2>&1 | tee "$ROOT/guide.log"; then
    echo "== a guide block failed; the logs:"
    tail -n 20 "$ROOT"/run/*.log
    exit 1
fi

echo "== after the guide: the administrator logs in with the app linked before the key rotation"
set -a; . "$ROOT/etc/twofactor/env"; set +a
status=$("$BIN" master-key status)
echo "$status"
grep -q "authenticators sealed with .* (current)" <<<"$status"
if grep -q "(previous)\|NOT CONFIGURED" <<<"$status"; then
    echo "a value is still sealed with the old key after the rotation"
    exit 1
fi
secret=$(grep -o 'otpauth://[^ ]*' "$ROOT/guide.log" | tail -n 1 | sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p')
[[ -n "$secret" ]]
base="https://login.clinic.example:$PHTTPS"
export CURL_CA_BUNDLE="$ROOT/etc/ssl/twofactor/fullchain.pem"
jar="$ROOT/jar"
resolve=(--resolve "login.clinic.example:$PHTTPS:127.0.0.1")
# Form tokens are bound to the session: read from each page, as a browser does.
form_token() { sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1; }
csrf=$(curl -fsS "${resolve[@]}" -c "$jar" "$base/login" | form_token)
curl -fsS "${resolve[@]}" -o /dev/null -c "$jar" -b "$jar" \
    --data-urlencode "username=boss" --data-urlencode "password=a long passphrase for the first admin" \
    --data "csrf_token=$csrf" "$base/login"
csrf=$(curl -fsS "${resolve[@]}" -c "$jar" -b "$jar" "$base/login/2fa" | form_token)
code=$(oathtool --totp -b "$secret")
where=$(curl -sS "${resolve[@]}" -o /dev/null -w '%{redirect_url}' -c "$jar" -b "$jar" \
    --data "token=$code&csrf_token=$csrf" "$base/login/2fa")
[[ "$where" == "$base/" ]] || { echo "the second step did not log in: $where"; exit 1; }
echo "== docs/operations.md: every block ran"
