"""Whose address a request comes from: forwarded headers count only from trusted proxies."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.test import RequestFactory

from atende.client_address import client_ip
from tests.fakes import processes


def request(remote: str, forwarded: str = "", **extra: Any) -> Any:
    meta = {"REMOTE_ADDR": remote, **extra}
    if forwarded:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


def trust(settings: Any, *networks: str) -> None:
    settings.TRUSTED_PROXIES = [ipaddress.ip_network(n) for n in networks]


def test_forwarded_for_is_ignored_by_default(settings: Any) -> None:
    trust(settings)
    assert client_ip(request("127.0.0.1", "203.0.113.5")) == "127.0.0.1"


def test_a_trusted_proxy_speaks_for_its_client(settings: Any) -> None:
    trust(settings, "10.0.0.0/8")
    assert client_ip(request("10.0.0.2", "203.0.113.5")) == "203.0.113.5"
    # What the client wrote at the left is not believed: the last untrusted hop is.
    assert client_ip(request("10.0.0.2", "1.1.1.1, 203.0.113.5, 10.0.0.3")) == "203.0.113.5"
    # An untrusted peer's header is ignored even when proxies are configured.
    assert client_ip(request("198.51.100.1", "203.0.113.5")) == "198.51.100.1"
    assert client_ip(request("10.0.0.2", "not-an-address")) == "10.0.0.2"


def test_forwarded_proto_counts_only_from_a_trusted_proxy(client: Any, settings: Any) -> None:
    trust(settings, "10.0.0.0/8")
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = []
    forged = client.get("/login/", REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_PROTO="https")
    assert forged.status_code == 301  # seen as plain HTTP: sent to https
    proxied = client.get("/login/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_PROTO="https")
    assert proxied.status_code == 200


def test_a_bad_trusted_proxies_setting_stops_the_start(tmp_path: Path) -> None:
    env = processes.profile_env(tmp_path, ATENDE_TRUSTED_PROXIES="10.0.0.0/8,proxy.local")
    with pytest.raises(RuntimeError, match=r"ATENDE_TRUSTED_PROXIES: 'proxy\.local' is not"):
        processes.run_django("print('started')", env)


def _sign_in_page(http: httpx.Client) -> str:
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', http.get("/login/").text)
    assert token is not None
    return token.group(1)


@pytest.mark.slow
def test_two_web_processes_count_the_same_failures_and_ignore_forwarded_for(
    tmp_path: Path,
) -> None:
    """Failures alternating between two `atende web` processes, each with a new
    X-Forwarded-For from 127.0.0.1: one address and one e-mail, counted once."""
    env = processes.profile_env(tmp_path)
    processes.manage(env, "migrate", "--no-input", "-v", "0")
    webs = [processes.start_web(env, tmp_path), processes.start_web(env, tmp_path)]
    try:
        with httpx.Client(base_url=webs[0].url) as first, \
                httpx.Client(base_url=webs[1].url) as second:
            clients = [(first, _sign_in_page(first)), (second, _sign_in_page(second))]
            statuses = []
            for n in range(6):
                http, token = clients[n % 2]
                statuses.append(http.post(
                    "/login/", data={"csrfmiddlewaretoken": token,
                                     "username": "ana@example.com",
                                     "password": "wrong-password-1"},
                    headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code)
    finally:
        for web in webs:
            web.stop()
    assert statuses == [200] * 5 + [429]
