"""Where outbound connections may go: the SSRF guard's policy.

Organisations type URLs and mail servers; without this guard those would reach the server's
own network (a cloud metadata service at 169.254.169.254, a database on 127.0.0.1). Every
address a name resolves to must be public; an IPv4 address carried inside IPv6
(`::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) is judged as that IPv4 address.
The operator may allow private networks (ATENDE_ALLOWED_PRIVATE_NETWORKS) or turn the guard
off (ATENDE_ALLOW_PRIVATE_WEBHOOKS, tests and development only).

The connection code (`http_client`, `sockets`) resolves a name once, checks the addresses
here and dials one of those same addresses, so a DNS answer that changes between the check
and the connection (DNS rebinding) has nothing to slip through.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

import httpx
from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

NAT64 = ipaddress.ip_network("64:ff9b::/96")
SCHEMES = ("http", "https")

KINDS: dict[str, Promise] = {
    "loopback": _("a loopback address"),
    "private": _("an address on a private network"),
    "link-local": _("a link-local address (such as a cloud metadata service)"),
    "multicast": _("a multicast address"),
    "other": _("an address that is not public"),
}


class BlockedDestination(ValueError):
    """A destination the guard (or URL parsing) refuses; `str()` says why, in a few words,
    in the active language."""

    def __init__(self, reason: str | Promise) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return str(self.reason)


class UnresolvedName(OSError):
    """The name has no address (DNS): a network failure, not a refusal."""


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str  # a name, or an IP address without brackets
    port: int


def parse_url(url: str) -> Destination:
    """The scheme, host and port of an http(s) URL as httpx (the sender) reads it.

    Refuses what a person may not have meant: control characters and spaces (a CR/LF would
    otherwise be dropped silently by `urlsplit`), malformed hosts (`http://[::1/x`), other
    schemes."""
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise BlockedDestination(_("The URL contains spaces or control characters (such as "
                                   "a line break)."))
    try:
        parsed = httpx.URL(url)
        port = parsed.port
    except (httpx.InvalidURL, ValueError, TypeError):
        raise BlockedDestination(_("This is not a valid URL.")) from None
    if parsed.scheme not in SCHEMES:
        raise BlockedDestination(_("Only http:// and https:// URLs are accepted."))
    if not parsed.raw_host:
        raise BlockedDestination(_("The URL has no server name."))
    if port is not None and not 0 < port < 65536:
        raise BlockedDestination(_("This is not a valid URL."))
    # The ASCII (IDNA) form: the name the connection will resolve.
    return Destination(parsed.scheme, parsed.raw_host.decode("ascii"),
                       port or (443 if parsed.scheme == "https" else 80))


def check_url(url: str) -> Destination:
    """Refuse a URL an organisation may not use as a destination (when it is saved): a
    malformed one always, a non-public one while the guard is on. Resolves the name; the
    connection checks again on the address it dials."""
    destination = parse_url(url)
    if not settings.ALLOW_PRIVATE_WEBHOOKS:
        try:
            checked_addresses(destination.host, destination.port)
        except UnresolvedName:
            raise BlockedDestination(_("The name %(host)s could not be found (DNS).")
                                     % {"host": destination.host}) from None
    return destination


def checked_addresses(host: str, port: int) -> list[Address]:
    """Resolve `host` once and return its addresses, all of them allowed; the caller dials
    one of these (never the name again). Raises BlockedDestination for a refused address,
    UnresolvedName when there is none."""
    addresses = resolve(host, port)
    if not settings.ALLOW_PRIVATE_WEBHOOKS:
        for address in addresses:
            refusal = refusal_for(address)
            if refusal is not None:
                raise BlockedDestination(_describe(host, address, refusal))
    return addresses


def resolve(host: str, port: int) -> list[Address]:
    host = host.strip("[]")
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    if _numeric_ipv4(host):
        # 0x7f.0.0.1, 2130706433, 127.1: the resolver reads these as addresses.
        raise BlockedDestination(_("%(host)s is an IP address written in an unusual form; "
                                   "write it as four decimal numbers.") % {"host": host})
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnresolvedName(f"{host}: {exc}") from exc
    addresses: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]))
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnresolvedName(f"{host}: no address")
    return addresses


def _numeric_ipv4(host: str) -> bool:
    try:
        socket.inet_aton(host)
    except (OSError, UnicodeError, ValueError):
        return False
    return True


def refusal_for(address: Address) -> str | None:
    """The kind of non-public address `address` is (a key of KINDS), or None when it may be
    dialled: public, or inside a network the operator allowed."""
    judged = embedded_ipv4(address) or address
    if any(judged in network for network in _allowed_networks()):
        return None
    return kind_of(judged)


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address delivers to, if any (mapped, NAT64, 6to4)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def kind_of(address: Address) -> str | None:
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_unspecified or address.is_reserved:
        return "other"
    if address.is_private:
        return "private"
    if not address.is_global:  # shared (100.64.0.0/10) and the like
        return "other"
    return None


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in settings.ALLOWED_PRIVATE_NETWORKS]


def _describe(host: str, address: Address, kind: str) -> str:
    if host.strip("[]") == str(address):
        return str(_("%(address)s is %(kind)s.") % {"address": address, "kind": KINDS[kind]})
    return str(_("%(host)s resolves to %(address)s, %(kind)s.")
               % {"host": host, "address": address, "kind": KINDS[kind]})
