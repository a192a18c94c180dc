"""WhatsApp numbers: one canonical E.164 form per person.

Brazilian mobile numbers gained a ninth digit (a leading 9) years ago, but WhatsApp still
reports many older accounts without it (`wa_id` 55 11 8765-4321 for +55 11 98765-4321).
The canonical form always carries it, so both spellings are one contact and one thread.
"""

from __future__ import annotations

# The canonical form lives with the contacts: every channel that reports phone numbers
# (WhatsApp, the phone) finds the same person through it.
from atende.contacts.phones import BRAZIL, canonical_number, validated_number

__all__ = ["BRAZIL", "canonical_number", "recipient", "validated_number"]


def recipient(e164: str) -> str:
    """The `to` the provider expects: digits only, country code first."""
    return e164.lstrip("+")
