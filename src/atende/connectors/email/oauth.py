"""OAuth2 access tokens for Microsoft 365 and Gmail mailboxes (CONTRACTS §6.4).

The refresh token (from the consent) lives in `Channel.secrets`; an access token is kept
there too until a minute before it expires, then refreshed at the provider's token endpoint.
The refresh runs under a row lock so two pollers never spend the same refresh token twice.
"""

from __future__ import annotations

import time

import httpx
from django.db import transaction

from atende.connectors.email.client import MailError
from atende.connectors.email.config import OAUTH2, TIMEOUT
from atende.connectors.models import Channel
from atende.net import BlockedDestination, check_destination

TOKEN_URLS = {
    "microsoft": "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
    "google": "https://oauth2.googleapis.com/token",
}
SCOPES = {
    "microsoft": "https://outlook.office.com/IMAP.AccessAsUser.All "
                 "https://outlook.office.com/SMTP.Send offline_access",
    "google": "https://mail.google.com/",
}
EARLY_SECONDS = 60


def token_url(settings: dict[str, object]) -> str:
    custom = str(settings.get("oauth_token_url") or "")
    if custom:
        return custom
    provider = str(settings.get("oauth_provider") or "")
    if provider not in TOKEN_URLS:
        raise MailError("auth", f"unknown OAuth2 provider {provider!r}")
    return TOKEN_URLS[provider].format(tenant=settings.get("oauth_tenant") or "organizations")


def token_for(channel: Channel) -> str:
    """The access token for an OAuth2 channel ("" for a password channel)."""
    if (channel.settings or {}).get("auth") != OAUTH2:
        return ""
    secrets = channel.secrets
    if secrets.get("oauth_access_token") and \
            float(secrets.get("oauth_expires_at", 0)) > time.time() + EARLY_SECONDS:
        return str(secrets["oauth_access_token"])
    return refresh(channel)


@transaction.atomic
def refresh(channel: Channel) -> str:
    """Exchange the refresh token for a new access token and store both. Raises
    MailError("auth") with the provider's reason when it refuses."""
    locked = Channel.objects.select_for_update().get(pk=channel.pk)
    secrets = locked.secrets
    if secrets.get("oauth_access_token") and \
            float(secrets.get("oauth_expires_at", 0)) > time.time() + EARLY_SECONDS:
        return str(secrets["oauth_access_token"])  # another worker just refreshed it
    settings = locked.settings or {}
    url = token_url(settings)
    try:
        check_destination(url)
    except BlockedDestination as exc:
        raise MailError("auth", str(exc)) from exc
    form = {
        "grant_type": "refresh_token",
        "refresh_token": secrets.get("oauth_refresh_token", ""),
        "client_id": settings.get("oauth_client_id", ""),
        "scope": settings.get("oauth_scope") or SCOPES.get(
            str(settings.get("oauth_provider")), ""),
    }
    if secrets.get("oauth_client_secret"):
        form["client_secret"] = secrets["oauth_client_secret"]
    try:
        with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
            response = client.post(url, data=form)
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise MailError("auth", f"token endpoint: {exc}") from exc
    if response.status_code != 200 or not isinstance(body, dict) or \
            not body.get("access_token"):
        reason = body.get("error_description") or body.get("error") if isinstance(
            body, dict) else ""
        raise MailError("auth", f"token refresh refused ({response.status_code}): {reason}")
    secrets["oauth_access_token"] = str(body["access_token"])
    secrets["oauth_expires_at"] = time.time() + float(body.get("expires_in") or 3600)
    if body.get("refresh_token"):  # Microsoft rotates refresh tokens
        secrets["oauth_refresh_token"] = str(body["refresh_token"])
    locked.secrets = secrets
    locked.save(update_fields=["encrypted_secrets"])
    channel.encrypted_secrets = locked.encrypted_secrets
    return str(body["access_token"])
