"""Signatures on outbound webhooks: HMAC-SHA256 over `timestamp.body`.

Headers sent: `X-Atende-Signature: v1=<hex>`, `X-Atende-Timestamp: <unix seconds>`,
`X-Atende-Delivery: <uuid>`, `X-Atende-Event: <type>`. Receivers recompute the HMAC with
the subscription's secret and reject timestamps older than a few minutes (replay).
"""

import time

from atende.crypto import constant_time_equals, hmac_sha256_hex

SIGNATURE_HEADER = "X-Atende-Signature"
TIMESTAMP_HEADER = "X-Atende-Timestamp"
DELIVERY_HEADER = "X-Atende-Delivery"
EVENT_HEADER = "X-Atende-Event"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return "v1=" + hmac_sha256_hex(secret, str(timestamp).encode() + b"." + body)


def signed_headers(secret: str, body: bytes, delivery_id: str, event_type: str) -> dict[str, str]:
    timestamp = int(time.time())
    return {
        "Content-Type": "application/json",
        "User-Agent": "Atende-Webhooks/1",
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        TIMESTAMP_HEADER: str(timestamp),
        DELIVERY_HEADER: delivery_id,
        EVENT_HEADER: event_type,
    }


def verify(secret: str, body: bytes, signature: str, timestamp: str, tolerance: int = 300) -> bool:
    """What a receiver does; used by our tests and documented for integrators."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(time.time() - ts) > tolerance:
        return False
    return constant_time_equals(sign(secret, ts, body), signature)
