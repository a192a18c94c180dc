"""A fake OAuth2 provider on 127.0.0.1 (the parts Microsoft identity platform and Google
share, CONTRACTS §6.4), issuing opaque tokens:

- `GET /authorize`: the consent screen, answered at once: a redirect to `redirect_uri` with
  `code` and `state`, or `error=access_denied` when `deny_next()` was called. An unknown
  client or redirect URI gets an error page, no redirect (as the real providers do);
- `POST /token`: `authorization_code` (single-use code, same redirect URI, PKCE S256
  verified, client secret checked) and `refresh_token` grants; failures are the RFC 6749
  error bodies (`invalid_grant`, `invalid_client`, ...). The `id_token` is an unsigned JWT
  carrying `email` and `preferred_username` when `openid` was asked for;
- `POST /introspect` (RFC 7662, `token=`): `{"active": true, "email": ...}` while an access
  token is valid, for Dovecot's oauth2 passdb.

    with FakeOAuth2(user="box@example.com") as provider:
        provider.authorize_url, provider.token_url, provider.introspect_url
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit


@dataclass
class Grant:
    """What one authorization code stands for."""

    user: str
    client_id: str
    redirect_uri: str
    scope: str
    challenge: str


@dataclass
class FakeOAuth2:
    user: str = "box@example.com"
    client_id: str = "client-1"
    client_secret: str = "client-secret-1"
    expires_in: int = 3600
    rotate_refresh_tokens: bool = True
    codes: dict[str, Grant] = field(default_factory=dict)
    access_tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # → user, expiry
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # → user
    token_requests: list[dict[str, str]] = field(default_factory=list)
    introspections: int = 0
    _deny: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # --- test controls ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the provider first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def authorize_url(self) -> str:
        return self.base_url + "/authorize"

    @property
    def token_url(self) -> str:
        return self.base_url + "/token"

    @property
    def introspect_url(self) -> str:
        return self.base_url + "/introspect"

    def deny_next(self) -> None:
        """The next consent is refused by the user."""
        self._deny = True

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working (as when it outlived its hour)."""
        with self._lock:
            self.access_tokens = {t: (u, 0.0) for t, (u, _exp) in self.access_tokens.items()}

    def revoke_refresh_tokens(self) -> None:
        with self._lock:
            self.refresh_tokens.clear()

    # --- the endpoints ----------------------------------------------------------------------

    def _authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != self.client_id or not redirect_uri.startswith("http"):
            return 400, {}, b"unknown client or redirect_uri"
        params: dict[str, str] = {"state": query.get("state", "")}
        if self._deny:
            self._deny = False
            params.update(error="access_denied",
                          error_description="The user declined to consent to access the app.")
        elif query.get("response_type") != "code" or \
                query.get("code_challenge_method") != "S256" or \
                len(query.get("code_challenge", "")) < 43:
            params.update(error="invalid_request", error_description="PKCE S256 is required")
        else:
            code = "code-" + secrets.token_urlsafe(16)
            with self._lock:
                self.codes[code] = Grant(self.user, self.client_id, redirect_uri,
                                         query.get("scope", ""), query["code_challenge"])
            params["code"] = code
        separator = "&" if "?" in redirect_uri else "?"
        return 302, {"Location": redirect_uri + separator + urlencode(params)}, b""

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.token_requests.append(form)
        if form.get("client_id") != self.client_id or \
                form.get("client_secret") != self.client_secret:
            return 401, _error("invalid_client", "client authentication failed")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            with self._lock:
                grant = self.codes.pop(form.get("code", ""), None)  # single use
            if grant is None:
                return 400, _error("invalid_grant", "the code is unknown or was used")
            if grant.redirect_uri != form.get("redirect_uri"):
                return 400, _error("invalid_grant", "redirect_uri does not match")
            if _s256(form.get("code_verifier", "")) != grant.challenge:
                return 400, _error("invalid_grant", "PKCE verification failed")
            return 200, self._issue(grant.user, grant.scope, with_refresh=True)
        if grant_type == "refresh_token":
            with self._lock:
                user = self.refresh_tokens.get(form.get("refresh_token", ""))
                if user is not None and self.rotate_refresh_tokens:
                    del self.refresh_tokens[form["refresh_token"]]
            if user is None:
                return 400, _error("invalid_grant", "the refresh token is invalid or expired")
            return 200, self._issue(user, form.get("scope", ""),
                                    with_refresh=self.rotate_refresh_tokens)
        return 400, _error("unsupported_grant_type", f"{grant_type!r}")

    def _issue(self, user: str, scope: str, with_refresh: bool) -> dict[str, Any]:
        access = "at-" + secrets.token_urlsafe(24)
        body: dict[str, Any] = {"access_token": access, "token_type": "Bearer",
                                "expires_in": self.expires_in, "scope": scope}
        with self._lock:
            self.access_tokens[access] = (user, time.time() + self.expires_in)
            if with_refresh:
                refresh = "rt-" + secrets.token_urlsafe(24)
                self.refresh_tokens[refresh] = user
                body["refresh_token"] = refresh
        if "openid" in scope.split():
            body["id_token"] = _unsigned_jwt({"iss": self.base_url, "aud": self.client_id,
                                              "email": user, "preferred_username": user})
        return body

    def _introspect(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.introspections += 1
            user, expiry = self.access_tokens.get(form.get("token", ""), ("", 0.0))
        if not user or expiry < time.time():
            return 200, {"active": False}
        return 200, {"active": True, "email": user, "username": user,
                     "exp": int(expiry), "token_type": "Bearer"}

    # --- the server -------------------------------------------------------------------------

    def start(self) -> FakeOAuth2:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path != "/authorize":
                    self._answer(404, {}, b"")
                    return
                self._answer(*provider._authorize(_flat(url.query)))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = _flat(self.rfile.read(length).decode() if length else "")
                path = urlsplit(self.path).path
                if path == "/token":
                    status, body = provider._token(form)
                elif path == "/introspect":
                    status, body = provider._introspect(form)
                else:
                    status, body = 404, _error("not_found", path)
                self._answer(status, {"Content-Type": "application/json"},
                             json.dumps(body).encode())

            def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOAuth2:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _flat(query: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}


def _error(code: str, description: str) -> dict[str, str]:
    return {"error": code, "error_description": description}


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _unsigned_jwt(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    return part({"alg": "none", "typ": "JWT"}) + "." + part(claims) + "."
