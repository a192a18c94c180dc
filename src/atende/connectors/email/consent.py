"""The OAuth2 consent for a Microsoft 365 / Gmail mailbox: authorization code with PKCE.

`begin` remembers a random `state` in the admin's session, bound to the organisation, the
channel and the PKCE verifier, and gives the provider's authorize URL. `complete` accepts the
provider's answer only with a state from the same session and organisation, exchanges the
code at the token endpoint and stores the tokens encrypted in the channel's secrets.
Every failure is a `ConsentError` whose message can be shown to the admin as it is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from django.db import transaction
from django.utils.translation import gettext as _

from atende import json_input
from atende.channels.models import Channel, ChannelKind
from atende.connectors.email.client import MailError
from atende.connectors.email.config import OAUTH2, TIMEOUT
from atende.connectors.email.oauth import authorize_url, mail_scopes, token_url
from atende.net import BlockedDestination, check_url, failure_text, guarded_client

SESSION_KEY = "email_oauth_pending"
STATE_SECONDS = 15 * 60  # time for the admin to sign in at the provider
MAX_PENDING = 5
# `openid email` gives an id_token naming the account that consented ("Connected as").
IDENTITY_SCOPES = "openid email"


class ConsentError(Exception):
    """A refused or failed consent; the message is for the admin."""


@dataclass(frozen=True)
class Connected:
    channel: Channel
    account: str


def scopes(settings: dict[str, Any]) -> str:
    return f"{mail_scopes(settings)} {IDENTITY_SCOPES}".strip()


def begin(session: MutableMapping[str, Any], channel: Channel, redirect_uri: str) -> str:
    """The provider's authorize URL for this channel; the state is kept in `session`."""
    settings = channel.settings or {}
    if channel.kind != ChannelKind.EMAIL or settings.get("auth") != OAUTH2:
        raise ConsentError(_("This channel does not sign in with Microsoft 365 or Gmail."))
    if not settings.get("oauth_client_id"):
        raise ConsentError(_("Enter the application's client ID and save before connecting."))
    try:
        endpoint = authorize_url(settings)
    except MailError as exc:
        raise ConsentError(exc.detail) from exc
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    now = time.time()
    pending = {k: v for k, v in (session.get(SESSION_KEY) or {}).items()
               if v.get("at", 0) > now - STATE_SECONDS}
    for old in sorted(pending, key=lambda k: pending[k]["at"])[:-(MAX_PENDING - 1)]:
        del pending[old]
    pending[state] = {"org": channel.organization_id, "channel": channel.pk,
                      "verifier": verifier, "redirect_uri": redirect_uri, "at": now}
    session[SESSION_KEY] = pending
    params = {
        "client_id": settings["oauth_client_id"], "response_type": "code",
        "redirect_uri": redirect_uri, "response_mode": "query", "scope": scopes(settings),
        "state": state, "code_challenge": _s256(verifier), "code_challenge_method": "S256",
    }
    if settings.get("oauth_provider") == "google":
        # Without these Google gives no refresh token on a second consent.
        params.update(access_type="offline", prompt="consent")
    if settings.get("in_username"):
        params["login_hint"] = str(settings["in_username"])
    separator = "&" if "?" in endpoint else "?"
    return endpoint + separator + urlencode(params)


def pending_channel_id(session: MutableMapping[str, Any], state: str) -> int | None:
    """The channel a callback is about (to send the admin back to it), if the state is ours."""
    entry = (session.get(SESSION_KEY) or {}).get(state or "")
    return int(entry["channel"]) if entry else None


def complete(session: MutableMapping[str, Any], organization_id: int,
             params: MutableMapping[str, str]) -> Connected:
    """Finish the consent from the callback's query parameters."""
    pending = dict(session.get(SESSION_KEY) or {})
    entry = pending.pop(params.get("state") or "", None)
    session[SESSION_KEY] = pending  # a state is good for one answer only
    if entry is None or entry.get("at", 0) < time.time() - STATE_SECONDS:
        raise ConsentError(_("This sign-in answer is unknown or expired (it did not start in "
                             "this browser session). Click Connect again."))
    if entry["org"] != organization_id:
        raise ConsentError(_("This sign-in was started in another organisation."))
    channel = Channel.objects.for_org(organization_id).filter(
        pk=entry["channel"], kind=ChannelKind.EMAIL).first()
    if channel is None:
        raise ConsentError(_("The channel no longer exists."))
    if params.get("error"):
        if params["error"] == "access_denied":
            raise ConsentError(_("Access was not granted at the provider, so the mailbox is "
                                 "not connected."))
        raise ConsentError(_("The provider refused: %(error)s %(detail)s") % {
            "error": params["error"][:100], "detail": params.get("error_description", "")[:300]})
    if not params.get("code"):
        raise ConsentError(_("The provider's answer has no authorization code."))
    tokens = _exchange(channel, params["code"], entry)
    return _store(channel, tokens)


def _exchange(channel: Channel, code: str, entry: dict[str, Any]) -> dict[str, Any]:
    settings = channel.settings or {}
    try:
        url = token_url(settings)
        check_url(url)
    except (MailError, BlockedDestination) as exc:
        raise ConsentError(str(exc)) from exc
    form = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": entry["redirect_uri"], "code_verifier": entry["verifier"],
            "client_id": settings.get("oauth_client_id", ""), "scope": scopes(settings)}
    client_secret = channel.secrets.get("oauth_client_secret")
    if client_secret:
        form["client_secret"] = client_secret
    try:
        with guarded_client(TIMEOUT) as client:
            response = client.post(url, data=form)
        body = json_input.loads(response.content)
    except BlockedDestination as exc:
        raise ConsentError(str(exc)) from exc
    except httpx.HTTPError as exc:
        raise ConsentError(_("The provider's token endpoint could not be reached: %(error)s")
                           % {"error": failure_text(exc)}) from exc
    except ValueError as exc:
        raise ConsentError(_("The provider's token endpoint could not be reached: %(error)s")
                           % {"error": _("the answer was not JSON")}) from exc
    if response.status_code != 200 or not isinstance(body, dict) or \
            not body.get("access_token") or not body.get("refresh_token"):
        detail = ""
        if isinstance(body, dict):
            detail = str(body.get("error_description") or body.get("error") or "")
        if response.status_code == 200 and isinstance(body, dict) and body.get("access_token"):
            detail = _("no refresh token was issued (is offline access granted?)")
        raise ConsentError(_("The provider did not issue the tokens: %(detail)s")
                           % {"detail": detail[:300]})
    return body


@transaction.atomic
def _store(channel: Channel, tokens: dict[str, Any]) -> Connected:
    locked = Channel.objects.select_for_update().get(pk=channel.pk)
    secrets_ = locked.secrets
    secrets_.update(
        oauth_refresh_token=str(tokens["refresh_token"]),
        oauth_access_token=str(tokens["access_token"]),
        oauth_expires_at=time.time() + float(tokens.get("expires_in") or 3600),
    )
    locked.secrets = secrets_
    settings = dict(locked.settings or {})
    account = account_from_id_token(str(tokens.get("id_token") or "")) or \
        str(settings.get("in_username") or "")
    settings["oauth_account"] = account
    # XOAUTH2 names the mailbox: the account that consented, unless one was entered.
    for key in ("in_username", "smtp_username"):
        if not settings.get(key) and account:
            settings[key] = account
    locked.settings = settings
    locked.save(update_fields=["encrypted_secrets", "settings"])
    return Connected(locked, account)


def account_from_id_token(id_token: str) -> str:
    """The signed-in address from the id_token's claims. The token came straight from the
    token endpoint over TLS, which is what vouches for it here (OpenID Connect Core
    3.1.3.7); it only labels the connection, it grants nothing."""
    try:
        payload = id_token.split(".")[1]
        claims = json_input.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return ""
    if not isinstance(claims, dict):
        return ""
    for key in ("email", "preferred_username", "upn"):
        if isinstance(claims.get(key), str) and "@" in claims[key]:
            return str(claims[key]).strip().lower()[:320]
    return ""


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
