"""The guard at connect time: the address dialled is the address checked, against real
HTTP servers on 127.0.0.0/8 (standing for a public and an internal address)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.utils import translation

from atende.net import BlockedDestination, failure_text, post_json, status_text
from tests.fakes.dns import FakeDns
from tests.fakes.http_receiver import HttpReceiver
from tests.fakes.raw_server import RawServer

HEADERS = {"Content-Type": "application/json"}


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def internal() -> Iterator[HttpReceiver]:
    with HttpReceiver() as server:  # 127.0.0.1: the server's own network
        yield server


@pytest.fixture
def outside() -> Iterator[HttpReceiver]:
    with HttpReceiver(host="127.0.0.2") as server:  # allowed below: stands for a public host
        yield server


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    return FakeDns().install(monkeypatch)


def port_of(receiver: HttpReceiver) -> int:
    return int(receiver.url.rsplit(":", 1)[1].split("/")[0])


def test_an_internal_address_is_refused_before_anything_is_sent(
        ssrf_guard: None, internal: HttpReceiver) -> None:
    with pytest.raises(BlockedDestination, match="loopback"):
        post_json(internal.url, b"{}", HEADERS, 5)
    assert internal.requests == []


def test_an_allowed_private_network_is_reached(
        settings: Any, ssrf_guard: None, internal: HttpReceiver) -> None:
    settings.ALLOWED_PRIVATE_NETWORKS = ["127.0.0.0/8"]
    assert post_json(internal.url, b"{}", HEADERS, 5).status_code == 200
    assert len(internal.requests) == 1


def test_dns_rebinding_cannot_slip_between_the_check_and_the_connection(
        settings: Any, ssrf_guard: None, dns: FakeDns, outside: HttpReceiver) -> None:
    """The name answers an allowed address to the first lookup and an internal one to every
    later lookup: the connection goes to the address that was checked, looked up once."""
    settings.ALLOWED_PRIVATE_NETWORKS = ["127.0.0.2/32"]
    port = port_of(outside)
    try:  # the internal service: the same port on 127.0.0.1
        internal = _listen("127.0.0.1", port)
    except OSError:
        pytest.skip(f"port {port} is taken on 127.0.0.1")
    with internal:
        dns.answer("rebind.test", "127.0.0.2", "127.0.0.1")
        response = post_json(f"http://rebind.test:{port}/hook", b"{}", HEADERS, 5)
        internal.settimeout(0.2)
        with pytest.raises(TimeoutError):
            internal.accept()  # nothing dialled the internal address
    assert response.status_code == 200
    assert dns.lookups == ["rebind.test"]
    [request] = outside.requests
    assert request.header("Host") == f"rebind.test:{port}"  # the name, not the address


def test_a_rebound_name_is_refused_at_connect_time(
        ssrf_guard: None, dns: FakeDns, internal: HttpReceiver) -> None:
    """Public when the URL was saved, internal when the delivery is made."""
    from atende.net import check_url

    dns.answer("rebind.test", "8.8.8.8", "127.0.0.1")
    url = f"http://rebind.test:{port_of(internal)}/hook"
    check_url(url)  # saved: the name pointed outside
    with pytest.raises(BlockedDestination, match=r"rebind\.test resolves to 127\.0\.0\.1"):
        post_json(url, b"{}", HEADERS, 5)
    assert internal.requests == []


def test_redirects_are_not_followed(settings: Any, ssrf_guard: None,
                                    outside: HttpReceiver) -> None:
    settings.ALLOWED_PRIVATE_NETWORKS = ["127.0.0.2/32"]
    with RawServer(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1/\r\n"
                    b"Content-Length: 0\r\n\r\n", host="127.0.0.2") as server:
        response = post_json(server.url, b"{}", HEADERS, 5)
    assert response.status_code == 302


def test_the_status_is_shown_never_the_body(internal: HttpReceiver) -> None:
    internal.respond_with((500, {"password": "s3cret-from-the-inside"}))
    response = post_json(internal.url, b"{}", HEADERS, 5)
    assert status_text(response) == "HTTP 500 Internal Server Error"


def test_a_non_http_answer_is_described_without_its_bytes() -> None:
    with RawServer(b"SSH-2.0-OpenSSH_9.6 internal-banner\r\n") as server, \
            pytest.raises(httpx.HTTPError) as failure:
        post_json(server.url, b"{}", HEADERS, 5)
    text = failure_text(failure.value)
    assert "internal-banner" not in text and "SSH" not in text
    assert text == "RemoteProtocolError: the answer was not HTTP"


def test_failures_are_translated() -> None:
    with RawServer(b"garbage\r\n\r\n") as server, pytest.raises(httpx.HTTPError) as failure:
        post_json(server.url, b"{}", HEADERS, 5)
    with translation.override("pt-br"):
        assert failure_text(failure.value) == "RemoteProtocolError: a resposta não era HTTP"


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen()
    return sock
