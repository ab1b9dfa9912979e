"""A relying party written with Authlib (an implementation independent of
ours), for the browser suite: it signs its user in through twofactor with
the authorization code flow and PKCE, validates the ID token against the
JWKS, reads userinfo and shows what it learned.

    python3 oidc_rp.py ISSUER CLIENT_ID CLIENT_SECRET PORT

Pages: /login (starts the flow; ?acr=phr asks for a passkey), /callback.
"""
import html
import json
import secrets
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt

ISSUER, CLIENT_ID, CLIENT_SECRET, PORT = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
REDIRECT = f"http://localhost:{PORT}/callback"
META = requests.get(ISSUER + "/.well-known/openid-configuration", timeout=10).json()
assert META["issuer"] == ISSUER, META["issuer"]
PENDING = {}


def session():
    return OAuth2Session(
        CLIENT_ID,
        CLIENT_SECRET,
        scope="openid profile email",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, location=None):
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body.encode())

    def do_GET(self):
        url = urlparse(self.path)
        query = parse_qs(url.query)
        if url.path == "/login":
            verifier = secrets.token_urlsafe(48)
            nonce = secrets.token_urlsafe(16)
            extra = {}
            if query.get("acr"):
                extra["acr_values"] = query["acr"][0]
            uri, state = session().create_authorization_url(
                META["authorization_endpoint"], nonce=nonce, code_verifier=verifier, **extra
            )
            PENDING[state] = (verifier, nonce)
            return self.answer(302, "", uri)
        if url.path == "/callback":
            if "error" in query:
                return self.answer(
                    200, f"<p id='rp-error'>{html.escape(query['error'][0])}</p>"
                )
            state = query.get("state", [""])[0]
            if state not in PENDING:
                return self.answer(400, "<p id='rp-error'>unknown state</p>")
            if query.get("iss", [""])[0] != ISSUER:
                return self.answer(400, "<p id='rp-error'>wrong iss</p>")
            verifier, nonce = PENDING.pop(state)
            oauth = session()
            token = oauth.fetch_token(
                META["token_endpoint"],
                authorization_response=f"http://localhost:{PORT}{self.path}",
                code_verifier=verifier,
            )
            keys = JsonWebKey.import_key_set(requests.get(META["jwks_uri"], timeout=10).json())
            claims = jwt.decode(
                token["id_token"],
                keys,
                claims_options={
                    "iss": {"essential": True, "value": ISSUER},
                    "aud": {"essential": True, "value": CLIENT_ID},
                    "nonce": {"essential": True, "value": nonce},
                },
            )
            claims.validate()
            info = oauth.get(META["userinfo_endpoint"]).json()
            assert info["sub"] == claims["sub"], (info, claims)
            shown = {
                "sub": claims["sub"],
                "preferred_username": info.get("preferred_username"),
                "email": info.get("email"),
                "amr": claims.get("amr"),
                "acr": claims.get("acr"),
            }
            return self.answer(
                200,
                f"<p id='rp-user'>Signed in as {html.escape(str(info.get('preferred_username')))}</p>"
                f"<pre id='rp-claims'>{html.escape(json.dumps(shown))}</pre>",
            )
        return self.answer(404, "not found")


print("ready", flush=True)
ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
