"""The signed link of an invitation: who may rate which ticket, for how long.

The token carries the organisation and the survey, signed with the installation's secret
(django.core.signing, salted for this use) and timestamped, so it can be neither forged
nor moved to another organisation's ticket, and it expires (CSAT_LINK_MAX_AGE_DAYS)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "atende.csat.link"


class BadToken(Exception):
    """Tampered with, malformed or expired: the page says so, never which."""


@dataclass(frozen=True)
class LinkClaim:
    organization_id: int
    survey_id: int


def make_token(organization_id: int, survey_id: int) -> str:
    return signing.dumps({"o": organization_id, "s": survey_id}, salt=SALT, compress=True)


def read_token(token: str) -> LinkClaim:
    max_age = int(getattr(settings, "CSAT_LINK_MAX_AGE_DAYS", 30)) * 86400
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
        return LinkClaim(int(data["o"]), int(data["s"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise BadToken from None


def rating_url(organization_id: int, survey_id: int) -> str:
    path = reverse("csat:rate", args=[make_token(organization_id, survey_id)])
    return f"{str(settings.PUBLIC_URL).rstrip('/')}{path}"
