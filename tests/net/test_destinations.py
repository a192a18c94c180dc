"""The SSRF guard's policy: which URLs and addresses organisations may use as destinations."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from django.utils import translation

from atende.net import BlockedDestination, check_url, parse_url
from tests.fakes.dns import FakeDns
from tests.net.refused_urls import REFUSED_URLS

# Every internal form the issue tried (20 of 20 passed), and a few more.
INTERNAL_HOSTS = [
    "127.0.0.1", "127.0.0.53", "[::1]", "169.254.169.254", "0x7f.0.0.1", "2130706433",
    "127.1", "0177.0.0.1", "[::ffff:127.0.0.1]", "[::ffff:a9fe:a9fe]",
    "[64:ff9b::a9fe:a9fe]", "[64:ff9b::7f00:1]", "[2002:7f00:1::]", "[2002:a9fe:a9fe::1]",
    "10.0.0.1", "172.16.5.4", "192.168.1.1", "100.64.0.1", "0.0.0.0", "[::]",
    "[fe80::1]", "[fc00::1]", "[fd12:3456::1]", "224.0.0.1", "[ff02::1]", "240.0.0.1",
    "255.255.255.255", "[::7f00:1]", "192.0.2.1", "198.18.0.1", "localhost",
]


@pytest.fixture(autouse=True)
def english() -> Any:
    with translation.override("en"):
        yield


@pytest.mark.parametrize("host", INTERNAL_HOSTS)
def test_internal_destinations_are_refused(ssrf_guard: None, host: str) -> None:
    with pytest.raises(BlockedDestination):
        check_url(f"http://{host}:8080/hook")


@pytest.mark.parametrize(("url", "words"), REFUSED_URLS)
def test_each_form_the_issue_found_is_refused_with_its_reason(
        ssrf_guard: None, url: str, words: str) -> None:
    with pytest.raises(BlockedDestination) as refused:
        check_url(url)
    assert words in str(refused.value)


@pytest.mark.parametrize("host", ["8.8.8.8", "[2606:4700:4700::1111]", "[64:ff9b::808:808]",
                                  "[::ffff:8.8.4.4]"])
def test_public_addresses_pass(ssrf_guard: None, host: str) -> None:
    assert check_url(f"https://{host}/hook").port == 443


def test_a_name_is_judged_by_every_address_it_resolves_to(
        ssrf_guard: None, monkeypatch: pytest.MonkeyPatch) -> None:
    dns = FakeDns().install(monkeypatch)
    dns.answer("public.test", "8.8.8.8")
    dns.answer("inside.test", "10.1.2.3")
    check_url("https://public.test/hook")
    with pytest.raises(BlockedDestination) as refused:
        check_url("https://inside.test/hook")
    assert str(refused.value) == "inside.test resolves to 10.1.2.3, an address on a private " \
                                 "network."


def test_a_name_that_does_not_resolve_is_refused_when_saved(ssrf_guard: None) -> None:
    with pytest.raises(BlockedDestination, match="could not be found"):
        check_url("https://no-such-host.invalid/hook")


def test_the_operator_may_allow_private_networks(settings: Any, ssrf_guard: None) -> None:
    settings.ALLOWED_PRIVATE_NETWORKS = ["10.0.0.0/8", "fd00::/8"]
    check_url("https://10.20.30.40/hook")
    check_url("https://[::ffff:10.0.0.1]/hook")  # the same IPv4 address, inside IPv6
    check_url("https://[fd12::1]/hook")
    with pytest.raises(BlockedDestination):
        check_url("https://192.168.0.1/hook")
    with pytest.raises(BlockedDestination):
        check_url("https://127.0.0.1/hook")


@pytest.mark.parametrize("url", [
    "http://[::1/x", "http://hooks.example.com/a\r\nX: 1", "http://hooks.example.com/a\nb",
    "http://hooks.example .com/", "ftp://hooks.example.com/", "javascript:alert(1)",
    "http:///hook", "http://hooks.example.com:99999/", "http://hooks.example.com:x/",
    "hooks.example.com/hook", "",
])
def test_malformed_urls_are_refused_even_with_the_guard_off(settings: Any, url: str) -> None:
    settings.ALLOW_PRIVATE_WEBHOOKS = True
    with pytest.raises(BlockedDestination):
        parse_url(url)
    with pytest.raises(BlockedDestination):
        check_url(url)


def test_the_guard_is_on_without_the_opt_out_on_every_profile(tmp_path: Any) -> None:
    """The settings module read in a fresh interpreter, with and without REDIS_URL."""
    script = ("import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'atende.settings'; "
              "django.setup(); from django.conf import settings as s; "
              "print(s.ALLOW_PRIVATE_WEBHOOKS, s.ALLOWED_PRIVATE_NETWORKS)")
    for extra in ({}, {"REDIS_URL": "redis://127.0.0.1:6379/0"}):
        env = _clean_env(tmp_path, **extra)
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, check=True).stdout
        assert out.strip() == "False []"
    env = _clean_env(tmp_path, ATENDE_ALLOWED_PRIVATE_NETWORKS="10.0.0.0/8, 192.168.1.7")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "False ['10.0.0.0/8', '192.168.1.7/32']"


def test_a_malformed_allowed_network_stops_the_start(tmp_path: Any) -> None:
    env = _clean_env(tmp_path, ATENDE_ALLOWED_PRIVATE_NETWORKS="10.0.0.0/8,intranet")
    result = subprocess.run([sys.executable, "-c", "import atende.settings"], env=env,
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "ATENDE_ALLOWED_PRIVATE_NETWORKS: 'intranet' is not a network" in result.stderr


def _clean_env(tmp_path: Any, **extra: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items()
           if k not in {"ATENDE_ALLOW_PRIVATE_WEBHOOKS", "ATENDE_ALLOWED_PRIVATE_NETWORKS",
                        "DATABASE_URL", "REDIS_URL"}}
    env["ATENDE_DATA_DIR"] = str(tmp_path / "data")
    env.update(extra)
    return env
