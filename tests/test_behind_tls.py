"""ATENDE_BEHIND_TLS: one setting for "browsers reach us over HTTPS", and the session's
lifetime. Read from the environment in a fresh process, as a deployment does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes import processes

PROBE = """
import json
from django.conf import settings
from django.test import Client
secure = Client().get("/login/", secure=True)
plain = Client().get("/login/")
health = Client().get("/healthz")
print(json.dumps({
    "hsts": secure.headers.get("Strict-Transport-Security"),
    "csrf_cookie_secure": bool(secure.cookies["csrftoken"]["secure"]),
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "plain": [plain.status_code, plain.headers.get("Location")],
    "health": health.status_code,
    "session_age": settings.SESSION_COOKIE_AGE,
}))
"""


def probe(tmp_path: Path, **env: str) -> dict[str, object]:
    environment = processes.profile_env(tmp_path, **env)
    result: dict[str, object] = json.loads(
        processes.run_django(PROBE, environment).strip().splitlines()[-1])
    return result


def test_behind_tls_secures_cookies_sends_hsts_and_redirects_plain_http(tmp_path: Path) -> None:
    seen = probe(tmp_path, ATENDE_BEHIND_TLS="1")
    assert seen["hsts"] == "max-age=86400"
    assert seen["csrf_cookie_secure"] is True
    assert seen["session_cookie_secure"] is True
    assert seen["plain"] == [301, "https://testserver/login/"]
    assert seen["health"] in (200, 503)  # a load balancer's check is not redirected


def test_without_it_nothing_changes_for_plain_http_installs(tmp_path: Path) -> None:
    seen = probe(tmp_path)
    assert seen["hsts"] is None and seen["csrf_cookie_secure"] is False
    assert seen["plain"] == [200, None]


def test_session_lifetime_is_configurable(tmp_path: Path) -> None:
    assert probe(tmp_path, ATENDE_SESSION_HOURS="8")["session_age"] == 8 * 3600


@pytest.mark.parametrize("hours", ["0", "eight"])
def test_a_bad_session_lifetime_stops_the_start(tmp_path: Path, hours: str) -> None:
    env = processes.profile_env(tmp_path, ATENDE_SESSION_HOURS=hours)
    with pytest.raises(RuntimeError, match="ATENDE_SESSION_HOURS"):
        processes.run_django("print('started')", env)
