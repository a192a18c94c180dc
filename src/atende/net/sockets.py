"""TCP connections (mail servers) to hosts organisations configure, through the SSRF guard:
the name is resolved once, every address checked, and a checked address dialled."""

from __future__ import annotations

import socket

from atende.net.destinations import checked_addresses


def open_connection(host: str, port: int, timeout: float) -> socket.socket:
    """A connected socket to `host`. Raises BlockedDestination for a refused address,
    UnresolvedName (an OSError) when the name has no address, OSError when no address
    answers within `timeout`."""
    failure: OSError | None = None
    for address in checked_addresses(host, port):
        try:
            return socket.create_connection((str(address), port), timeout=timeout)
        except OSError as exc:
            failure = exc
    assert failure is not None  # checked_addresses never returns an empty list
    raise failure
