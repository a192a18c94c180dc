"""Outbound connections to destinations organisations configure (webhooks, API channels,
bots, mail servers, OAuth2 token endpoints), behind the SSRF guard (docs/security.md)."""

from atende.net.destinations import (
    BlockedDestination,
    UnresolvedName,
    check_url,
    checked_addresses,
    parse_url,
)
from atende.net.http_client import failure_text, guarded_client, post_json, status_text
from atende.net.sockets import open_connection

__all__ = ["BlockedDestination", "UnresolvedName", "check_url", "checked_addresses",
           "failure_text", "guarded_client", "open_connection", "parse_url", "post_json",
           "status_text"]
