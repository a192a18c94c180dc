"""OAuth2 access tokens for Microsoft 365 and Gmail mailboxes (CONTRACTS §6.4).

The refresh token (from the consent) lives in `Channel.secrets`; an access token is kept
there too until a minute before it expires, then refreshed at the provider's token endpoint.
The refresh runs under a row lock so two pollers never spend the same refresh token twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from django.db import transaction

from atende import json_input
from atende.channels.models import Channel
from atende.connectors.email.client import MailError
from atende.connectors.email.config import OAUTH2, TIMEOUT
from atende.net import BlockedDestination, failure_text, guarded_client, parse_url

AUTHORIZE_URLS = {
    "microsoft": "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
    "google": "https://accounts.google.com/o/oauth2/v2/auth",
}
TOKEN_URLS = {
    "microsoft": "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
    "google": "https://oauth2.googleapis.com/token",
}
SCOPES = {
    "microsoft": "https://outlook.office.com/IMAP.AccessAsUser.All "
                 "https://outlook.office.com/SMTP.Send offline_access",
    "google": "https://mail.google.com/",
}
# POP3 at Microsoft has its own permission in place of IMAP's.
MICROSOFT_POP_SCOPE = "https://outlook.office.com/POP.AccessAsUser.All"
EARLY_SECONDS = 60


def mail_scopes(settings: dict[str, object]) -> str:
    """The scopes the mailbox needs (a channel may set its own in `oauth_scope`)."""
    custom = str(settings.get("oauth_scope") or "")
    if custom:
        return custom
    provider = str(settings.get("oauth_provider") or "")
    scopes = SCOPES.get(provider, "")
    if provider == "microsoft" and settings.get("in_protocol") == "pop3":
        scopes = scopes.replace("https://outlook.office.com/IMAP.AccessAsUser.All",
                                MICROSOFT_POP_SCOPE)
    return scopes


def token_url(settings: dict[str, object]) -> str:
    return _provider_url(settings, "oauth_token_url", TOKEN_URLS)


def authorize_url(settings: dict[str, object]) -> str:
    return _provider_url(settings, "oauth_authorize_url", AUTHORIZE_URLS)


def _provider_url(settings: dict[str, object], key: str, urls: dict[str, str]) -> str:
    """The provider's endpoint, unless the channel overrides it (a sovereign cloud, tests)."""
    custom = str(settings.get(key) or "")
    if custom:
        return custom
    provider = str(settings.get("oauth_provider") or "")
    if provider not in urls:
        raise MailError("auth", f"unknown OAuth2 provider {provider!r}")
    return urls[provider].format(tenant=settings.get("oauth_tenant") or "organizations")


def with_token[T](channel: Channel, use: Callable[[str], T]) -> T:
    """`use(token)`; when the server refuses a cached access token (revoked or expired
    early), once more with a freshly refreshed one."""
    token = token_for(channel)
    try:
        return use(token)
    except MailError as exc:
        if exc.step != "auth" or not token:
            raise
    return use(refresh(channel, force=True))


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
def refresh(channel: Channel, force: bool = False) -> str:
    """Exchange the refresh token for a new access token and store both. Raises
    MailError("auth") with the provider's reason when it refuses. `force`: the stored
    access token was refused, unless another worker replaced it meanwhile."""
    locked = Channel.objects.select_for_update().get(pk=channel.pk)
    secrets = locked.secrets
    refused = channel.secrets.get("oauth_access_token") if force else None
    if secrets.get("oauth_access_token") and secrets["oauth_access_token"] != refused and \
            float(secrets.get("oauth_expires_at", 0)) > time.time() + EARLY_SECONDS:
        return str(secrets["oauth_access_token"])  # another worker just refreshed it
    if not secrets.get("oauth_refresh_token"):
        raise MailError("auth", "the mailbox is not connected yet: use Connect in the "
                                "channel's settings")
    settings = locked.settings or {}
    url = token_url(settings)
    try:
        parse_url(url)  # the address is checked when the connection is made
    except BlockedDestination as exc:
        raise MailError("blocked", str(exc)) from exc
    form = {
        "grant_type": "refresh_token",
        "refresh_token": secrets.get("oauth_refresh_token", ""),
        "client_id": settings.get("oauth_client_id", ""),
        "scope": mail_scopes(settings),
    }
    if secrets.get("oauth_client_secret"):
        form["client_secret"] = secrets["oauth_client_secret"]
    try:
        with guarded_client(TIMEOUT) as client:
            response = client.post(url, data=form)
        body = json_input.loads(response.content)
    except BlockedDestination as exc:
        raise MailError("blocked", str(exc)) from exc
    except httpx.HTTPError as exc:
        raise MailError("auth", f"token endpoint: {failure_text(exc)}") from exc
    except ValueError as exc:
        raise MailError("auth", "token endpoint: the answer was not JSON") from exc
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
