"""The client's address, and which forwarded headers to believe.

Only a request whose peer is in ATENDE_TRUSTED_PROXIES may speak for someone else through
X-Forwarded-For / X-Forwarded-Proto; from anyone else those headers are ignored, so a
client cannot pick the address its sign-in attempts are counted on, nor claim HTTPS.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django.utils.deprecation import MiddlewareMixin


def is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXIES)


def client_ip(request: HttpRequest) -> str:
    """The address of whoever sent `request`: the peer, or, when the peer is a trusted
    proxy, the first address in X-Forwarded-For (read from the right) that is not one.

    Read from the right because a client can put anything at the left of the header; each
    trusted proxy appends the address it got the request from.
    """
    address = str(request.META.get("REMOTE_ADDR", ""))
    if not is_trusted_proxy(address):
        return address
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:  # garbage from the client's end: stop at the last good hop
            break
        address = hop
        if not is_trusted_proxy(hop):
            break
    return address


class TrustedProxyMiddleware(MiddlewareMixin):
    """Drops X-Forwarded-Proto from peers that are not trusted proxies, so Django's
    SECURE_PROXY_SSL_HEADER (set when proxies are configured) only believes those."""

    def process_request(self, request: HttpRequest) -> None:
        if not is_trusted_proxy(str(request.META.get("REMOTE_ADDR", ""))):
            request.META.pop("HTTP_X_FORWARDED_PROTO", None)
