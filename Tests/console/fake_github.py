"""A local stand-in for GitHub's OAuth web flow and `GET /user/emails`, for the console's browser flow
(the Swift tests have their own, FakeGitHub). It speaks GitHub's shapes: the authorize page sends the
browser back to `redirect_uri` with a code bound to the PKCE challenge; the token endpoint answers 200 with
`error` when it refuses (a used code, a wrong verifier or client); `/user/emails` answers 401 to an unknown
token. Who signs in at the authorize page is set by `POST /_account` with `{"email": ...}`.

    fake_github.py PORT CLIENT_ID CLIENT_SECRET
"""

import base64
import hashlib
import json
import secrets
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, CLIENT_ID, CLIENT_SECRET = int(sys.argv[1]), sys.argv[2], sys.argv[3]
lock = threading.Lock()
account = {"email": None}
grants = {}  # code -> (challenge, redirect_uri, email)
tokens = {}  # access token -> email


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body=None, headers=()):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/login/oauth/authorize":
            if query.get("client_id") != CLIENT_ID or query.get("code_challenge_method") != "S256" \
                    or not query.get("state") or not query.get("redirect_uri"):
                return self.answer(400, {"error": "bad_request"})
            code = secrets.token_hex(10)
            with lock:
                grants[code] = (query["code_challenge"], query["redirect_uri"], account["email"])
            back = query["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": query["state"]})
            return self.answer(302, headers=[("Location", back)])
        if url.path == "/user/emails":
            with lock:
                email = tokens.get(self.headers.get("Authorization", "").removeprefix("Bearer "))
            if email is None:
                return self.answer(401, {"message": "Bad credentials", "status": "401"})
            return self.answer(200, [{"email": email, "primary": True, "verified": True, "visibility": "public"}])
        self.answer(404, {"message": "Not Found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        text = self.rfile.read(length).decode()
        if self.path == "/_account":
            with lock:
                account["email"] = json.loads(text)["email"]
            return self.answer(204)
        if self.path != "/login/oauth/access_token":
            return self.answer(404, {"message": "Not Found"})
        form = dict(urllib.parse.parse_qsl(text))
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return self.answer(200, {"error": "incorrect_client_credentials"})
        challenge = base64.urlsafe_b64encode(hashlib.sha256(form.get("code_verifier", "").encode()).digest()) \
            .decode().rstrip("=")
        with lock:
            grant = grants.pop(form.get("code", ""), None)
            if grant is None or grant[0] != challenge or grant[1] != form.get("redirect_uri"):
                return self.answer(200, {"error": "bad_verification_code"})
            token = "gho_" + secrets.token_hex(16)
            tokens[token] = grant[2]
        self.answer(200, {"access_token": token, "token_type": "bearer", "scope": "user:email"})


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
