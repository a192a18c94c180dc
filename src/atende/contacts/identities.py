"""Normalising the identities a contact can have, so the same person is found again."""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from atende.contacts.models import IdentityKind

DEFAULT_REGION = "BR"


def normalize_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """E.164 (`+5511987654321`). Raises ValidationError on a number that cannot exist."""
    text = raw.strip()
    if text and not text.startswith("+") and len(re.sub(r"\D", "", text)) > 11:
        text = "+" + re.sub(r"\D", "", text)  # WhatsApp ids carry the country code, no "+"
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("This is not a phone number.")) from exc
    if not phonenumbers.is_possible_number(number):
        raise ValidationError(_("This is not a phone number."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _cpf_check_digits(digits: str) -> str:
    result = ""
    for length in (9, 10):
        weights = range(length + 1, 1, -1)
        total = sum(int(d) * w for d, w in zip(digits[:length], weights, strict=True))
        remainder = total * 10 % 11
        result += str(0 if remainder == 10 else remainder)
        digits = digits[:length] + result[-1] + digits[length + 1 :]
    return result


def normalize_cpf(raw: str) -> str:
    digits = re.sub(r"\D", "", raw)
    if len(digits) != 11 or digits == digits[0] * 11 or _cpf_check_digits(digits) != digits[9:]:
        raise ValidationError(_("This is not a valid CPF."))
    return digits


def normalize_email(raw: str) -> str:
    value = raw.strip().lower()
    try:
        validate_email(value)
    except ValidationError as exc:
        raise ValidationError(_("This is not an e-mail address.")) from exc
    return value


def normalize_identity(kind: str, raw: str) -> str:
    """The canonical form of an identity value; raises ValidationError when it is invalid."""
    if kind == IdentityKind.EMAIL:
        return normalize_email(raw)
    if kind in (IdentityKind.PHONE, IdentityKind.WHATSAPP):
        return normalize_phone(raw)
    if kind == IdentityKind.CPF:
        return normalize_cpf(raw)
    if kind == IdentityKind.TELEGRAM:
        value = raw.strip()
        if not re.fullmatch(r"-?\d{1,20}", value):
            raise ValidationError(_("A Telegram id is a number."))
        return value
    if kind in (IdentityKind.INSTAGRAM, IdentityKind.MESSENGER):
        value = raw.strip()
        if not value:
            raise ValidationError(_("This field is required."))
        return value
    value = raw.strip()
    if not value or len(value) > 320:
        raise ValidationError(_("An external id must have 1 to 320 characters."))
    return value
