"""Replay the probes of the security and reliability review (issue 16) against a running
server and print ok / FAIL / skip for each; exits 1 when any probe fails.

    atende demo                      # prints the URL, the admin e-mail and password, an API key
    atende run &                     # or `atende web` + `atende worker`
    .venv/bin/python -m bench.security_probes --url http://127.0.0.1:8000 --key <API key> \\
        [--admin-email E] \\
        [--whatsapp-channel ID --whatsapp-secret S]   # a WhatsApp channel's webhook secret
        [--channel-key K]                              # a key bound to one API channel
        [--only 2,9,13]

Every request goes to `--url` only (run it against a server on this machine). Probes that
need what was not given are skipped and say why. Nothing here needs the server's
internals: it is what an outsider can send.

Not replayed here (they need control over the server's processes): item 12 (a worker
killed mid-drain) and the database outage of item 13, both in
`tests/test_outage_processes.py`; item 5 (slow, long-running); item 8 (needs TLS
configured in front of the server).
"""

from __future__ import annotations

import argparse
import base64
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

DEEP_CURSOR = base64.urlsafe_b64encode(b"[" * 5000).decode().rstrip("=")
DEEP_BODY = b"[" * 100_000 + b"]" * 100_000
QUICK_SECONDS = 2.0
# Loopback spellings only: if the server wrongly accepts one, a later delivery must still
# stay on this machine.
INTERNAL_URLS = ["http://127.0.0.1:6379/", "http://localhost:5432/", "http://[::1]/",
                 "http://2130706433/", "http://0x7f000001/", "http://127.1/",
                 "http://0.0.0.0:8000/", "http://[::ffff:127.0.0.1]/",
                 # malformed: refused whatever the guard says
                 "http://[::1/x", "http://example.com/\r\nX-Injected: 1"]
SPRAY_ATTEMPTS = 30


class Skip(Exception):
    """The probe cannot run with what was given."""


@dataclass
class Probes:
    url: str
    key: str = ""
    admin_email: str = ""  # sprayed with wrong passwords
    whatsapp_channel: int = 0
    whatsapp_secret: str = ""
    channel_key: str = ""  # a key bound to one channel (Settings → the API channel)
    results: list[tuple[str, str, str]] = field(default_factory=list)

    def client(self, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30,
                            follow_redirects=False, **kwargs)

    def need_key(self) -> None:
        if not self.key:
            raise Skip("no --key")

    def run(self, item: str, name: str, probe: Callable[[], str]) -> None:
        try:
            detail = probe()
            outcome = "ok"
        except Skip as exc:
            outcome, detail = "skip", str(exc)
        except AssertionError as exc:
            outcome, detail = "FAIL", str(exc)
        except httpx.HTTPError as exc:
            outcome, detail = "FAIL", f"{type(exc).__name__}: {exc}"
        self.results.append((outcome, f"{item}: {name}", detail))
        print(f"{outcome:4}  [{item}] {name}: {detail}", flush=True)


# --- 1: a channel-bound key reads nothing of its organisation --------------------------------

def channel_key_stream(p: Probes) -> str:
    if not p.channel_key:
        raise Skip("no --channel-key")
    headers = {"Authorization": f"Bearer {p.channel_key}", "Last-Event-ID": "0"}
    with httpx.Client(base_url=p.url, timeout=10, follow_redirects=False) as http:
        tickets = http.get("/api/v1/tickets", headers=headers)
        assert tickets.status_code == 403, f"/api/v1/tickets: {tickets.status_code}"
        with http.stream("GET", "/realtime/stream", headers=headers) as stream:
            assert stream.status_code == 403, f"/realtime/stream: {stream.status_code}"
    return "403 on the ticket list and on the live stream"


# --- 2: webhook subscriptions to internal addresses ----------------------------------------

def ssrf_subscriptions(p: Probes) -> str:
    p.need_key()
    accepted = []
    with p.client() as http:
        for target in INTERNAL_URLS:
            response = http.post("/api/v1/webhooks", json={
                "url": target, "events": ["ticket.created"], "description": "security probe"})
            if response.status_code == 201:  # take it down at once: no delivery may follow
                accepted.append(target)
                http.delete(f"/api/v1/webhooks/{response.json()['id']}")
            else:
                assert response.status_code == 400, f"{target}: {response.status_code}"
    assert not accepted, f"accepted: {accepted}"
    return f"{len(INTERNAL_URLS)} internal URLs refused (400)"


# --- 6, 7: password spraying ---------------------------------------------------------------

def _form_token(http: httpx.Client, path: str) -> str:
    page = http.get(path)
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert found, f"no sign-in form at {path} ({page.status_code})"
    return found.group(1)


def _spray(p: Probes, path: str, field_name: str) -> str:
    if not p.admin_email:
        raise Skip("no --admin-email")
    statuses: list[int] = []
    with httpx.Client(base_url=p.url, timeout=30, follow_redirects=False) as http:
        for attempt in range(SPRAY_ATTEMPTS):
            token = _form_token(http, path)
            response = http.post(path, data={
                "csrfmiddlewaretoken": token, field_name: p.admin_email,
                "password": f"wrong-password-{attempt}"}, headers={"Referer": p.url + path})
            statuses.append(response.status_code)
            if response.status_code == 429 or re.search(
                    r"too many|muitas tentativas|try again later|tente novamente mais tarde",
                    response.text, re.IGNORECASE):
                return f"limited after {attempt + 1} wrong passwords"
    raise AssertionError(f"{SPRAY_ATTEMPTS} wrong passwords, never limited "
                         f"(statuses {sorted(set(statuses))})")


def spray_admin(p: Probes) -> str:
    return _spray(p, "/admin/login/", "username")


def spray_sign_in(p: Probes) -> str:
    return _spray(p, "/login/", "username")


# --- 9: deeply nested JSON -----------------------------------------------------------------

def deep_cursor_tickets(p: Probes) -> str:
    p.need_key()
    with p.client() as http:
        response = http.get("/api/v1/tickets", params={"cursor": DEEP_CURSOR})
    assert response.status_code == 400, f"{response.status_code}: {response.text[:200]}"
    assert response.json()["error"]["field"] == "cursor", response.text[:200]
    return "400 on the cursor"


def deep_cursor_audit(p: Probes) -> str:
    p.need_key()
    with p.client() as http:
        channels = http.get("/api/v1/channels").json()
        api_channels = [c["id"] for c in channels if c.get("kind") == "api"]
        if not api_channels:
            created = http.post("/api/v1/channels", json={"name": "Security probe"})
            assert created.status_code == 201, f"creating an API channel: {created.text[:200]}"
            api_channels = [created.json()["id"]]
        response = http.get(f"/api/v1/channels/{api_channels[0]}/audit",
                            params={"cursor": DEEP_CURSOR})
    assert response.status_code == 400, f"{response.status_code}: {response.text[:200]}"
    return "400 on the cursor"


def deep_api_body(p: Probes) -> str:
    p.need_key()
    with p.client() as http:
        response = http.post("/api/v1/webhooks", content=DEEP_BODY,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 400, f"{response.status_code}: {response.text[:200]}"
    return "400"


def deep_whatsapp_body(p: Probes) -> str:
    if not (p.whatsapp_channel and p.whatsapp_secret):
        raise Skip("no --whatsapp-channel/--whatsapp-secret")
    with p.client() as http:
        response = http.post(f"/whatsapp/{p.whatsapp_channel}/webhook", content=DEEP_BODY,
                             headers={"Content-Type": "application/json",
                                      "X-Atende-Webhook-Token": p.whatsapp_secret})
    assert response.status_code == 400, f"{response.status_code}: {response.text[:200]}"
    event = response.json().get("event")
    assert event, f"not quarantined: {response.text[:200]}"
    return f"400, quarantined as event {event}"


# --- 13: liveness and readiness ------------------------------------------------------------

def _timed_get(p: Probes, path: str) -> tuple[httpx.Response, float]:
    with httpx.Client(base_url=p.url, timeout=30) as http:
        started = time.monotonic()
        response = http.get(path)
        return response, time.monotonic() - started


def liveness(p: Probes) -> str:
    response, seconds = _timed_get(p, "/livez")
    assert response.status_code == 200, f"{response.status_code}"
    assert seconds < QUICK_SECONDS, f"{seconds:.2f} s"
    return f"200 in {seconds * 1000:.0f} ms"


def readiness(p: Probes) -> str:
    response, seconds = _timed_get(p, "/readyz")
    assert response.headers.get("content-type", "").startswith("application/json"), \
        f"{response.status_code} {response.headers.get('content-type')}"
    checks = response.json().get("checks", {})
    missing = {"database", "worker", "outbox"} - set(checks)
    assert not missing, f"no check of {sorted(missing)}"
    assert seconds < QUICK_SECONDS, f"{seconds:.2f} s"
    states = ", ".join(f"{name} {c.get('status')}" for name, c in checks.items())
    return f"{response.status_code} in {seconds * 1000:.0f} ms ({states})"


def api_errors_are_json(p: Probes) -> str:
    p.need_key()
    with p.client() as http:
        response = http.get("/api/v1/tickets/99999999999999999999999")
    assert response.headers.get("content-type", "").startswith("application/json"), \
        f"{response.status_code} {response.headers.get('content-type')}"
    return f"{response.status_code} as JSON"


PROBES: list[tuple[str, str, Callable[[Probes], str]]] = [
    ("1", "a channel-bound key cannot read the organisation's stream", channel_key_stream),
    ("2", "webhook subscriptions to internal addresses are refused", ssrf_subscriptions),
    ("6", "admin sign-in spraying is limited", spray_admin),
    ("7", "workspace sign-in spraying is limited", spray_sign_in),
    ("9", "deep cursor on GET /api/v1/tickets", deep_cursor_tickets),
    ("9", "deep cursor on the channel audit", deep_cursor_audit),
    ("9", "deep JSON body on the API", deep_api_body),
    ("9", "100k-deep body on the WhatsApp webhook", deep_whatsapp_body),
    ("13", "liveness answers quickly", liveness),
    ("13", "readiness reports its checks quickly, as JSON", readiness),
    ("13", "API errors are JSON", api_errors_are_json),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--key", default="", help="an organisation's API key (atende demo)")
    parser.add_argument("--admin-email", default="")
    parser.add_argument("--whatsapp-channel", type=int, default=0)
    parser.add_argument("--whatsapp-secret", default="")
    parser.add_argument("--channel-key", default="",
                        help="an API key bound to one channel (item 1)")
    parser.add_argument("--only", default="", help="items to run, e.g. 9,13")
    opts = parser.parse_args(argv)
    probes = Probes(opts.url.rstrip("/"), opts.key, opts.admin_email, opts.whatsapp_channel,
                    opts.whatsapp_secret, opts.channel_key)
    only = {item.strip() for item in opts.only.split(",") if item.strip()}
    for item, name, probe in PROBES:
        if not only or item in only:
            probes.run(item, name, lambda probe=probe: probe(probes))
    for item, name in (("5", "slow: not replayed here"),
                       ("8", "needs TLS in front of the server"),
                       ("10", "not replayed here"),
                       ("12", "tests/test_outage_processes.py (kills a worker)")):
        if not only or item in only:
            print(f"skip  [{item}] {name}")
    failed = [r for r in probes.results if r[0] == "FAIL"]
    ran = sum(1 for r in probes.results if r[0] != "skip")
    print(f"probes: {ran - len(failed)} ok, {len(failed)} FAIL")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
