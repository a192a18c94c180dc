"""Outbound HTTP to addresses customers configure (webhooks, API channel), with an SSRF guard."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import httpx
from django.conf import settings


class BlockedDestination(ValueError):
    pass


def check_destination(url: str) -> None:
    """Refuse URLs that resolve to private, loopback or link-local addresses, unless
    ATENDE_ALLOW_PRIVATE_WEBHOOKS is set (development, tests, on-premises integrations)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BlockedDestination(f"not an http(s) URL: {url}")
    if settings.ALLOW_PRIVATE_WEBHOOKS:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise BlockedDestination(f"cannot resolve {parts.hostname}: {exc}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise BlockedDestination(f"{parts.hostname} resolves to a private address")


def post_json(url: str, body: bytes, headers: dict[str, str], timeout: float) -> httpx.Response:
    check_destination(url)
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        return client.post(url, content=body, headers=headers)
