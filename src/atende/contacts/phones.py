"""Phone numbers in one canonical E.164 form per person, whatever channel reported them.

Brazilian mobile numbers gained a ninth digit (a leading 9) years ago, but WhatsApp still
reports many older accounts without it (`wa_id` 55 11 8765-4321 for +55 11 98765-4321), and
a caller id may come either way too. The canonical form always carries it, so both
spellings are one contact.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

BRAZIL = 55


@lru_cache(maxsize=4096)
def canonical_number(raw: str) -> str:
    """E.164 with the Brazilian ninth digit restored; raises ValidationError. Cached: a
    conversation's numbers come again and again (a drain used to parse each one twice),
    and an exception is never cached."""
    text = raw.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        raise ValidationError(_("This is not a phone number."))
    try:
        number = phonenumbers.parse(text if text.startswith("+") else "+" + digits, None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("This is not a phone number.")) from exc
    if number.country_code == BRAZIL:
        number = _with_ninth_digit(number)
    if not phonenumbers.is_possible_number(number):
        raise ValidationError(_("This is not a phone number."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _with_ninth_digit(number: phonenumbers.PhoneNumber) -> phonenumbers.PhoneNumber:
    national = str(number.national_number)
    # Area code (2 digits) + 8 digits starting 6-9 is a mobile written the old way;
    # landlines start 2-5 and keep their 8 digits.
    if len(national) == 10 and national[2] in "6789":
        return phonenumbers.parse(f"+55{national[:2]}9{national[2:]}", None)
    return number


def validated_number(raw: str) -> str:
    """A number an admin typed (country code + area code + number) → E.164, or
    ValidationError when it cannot be a valid number."""
    e164 = canonical_number(raw)
    if not phonenumbers.is_valid_number(phonenumbers.parse(e164, None)):
        raise ValidationError(_("This is not a valid phone number."))
    return e164
