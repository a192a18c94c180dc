"""Connecting a page with Facebook Login, walked like the e-mail channel's consent: `begin`
keeps a random state in the admin's session (bound to the organisation and the channel)
and gives the consent dialog's URL; `complete` takes the callback only with that state,
exchanges the code for a user token, that for a long-lived one (60 days), finds the page
(with its Instagram professional account for an Instagram channel), keeps the tokens
encrypted and subscribes the page to the webhook. `refresh_due` exchanges a long-lived
token again before it expires, and the page's token with it. Every failure is a
`ConsentError` whose message can be shown to the admin."""

from __future__ import annotations

import secrets
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db import transaction
from django.utils.translation import gettext as _

from atende.channels.meta import GraphCallError, GraphClient, dialog_url
from atende.channels.models import Channel
from atende.connectors.meta_messaging.client import MessagingClient
from atende.connectors.meta_messaging.kinds import INSTAGRAM, PLATFORMS, of

SESSION_KEY = "meta_oauth_pending"
STATE_SECONDS = 15 * 60
MAX_PENDING = 5
REFRESH_BEFORE = 10 * 24 * 3600  # exchange a long-lived token this long before it expires
SCOPES = {
    INSTAGRAM.kind: "instagram_basic,instagram_manage_messages,pages_manage_metadata,"
                    "pages_show_list,business_management",
    "messenger": "pages_messaging,pages_manage_metadata,pages_show_list",
}


class ConsentError(Exception):
    """A refused or failed consent; the message is for the admin."""


@dataclass(frozen=True)
class Connected:
    channel: Channel
    page: str
    account: str


def begin(session: MutableMapping[str, Any], channel: Channel, redirect_uri: str) -> str:
    if channel.kind not in PLATFORMS:
        raise ConsentError(_("This channel does not connect with Facebook."))
    app_id = str(channel.settings.get("app_id") or "")
    if not app_id or not channel.secrets.get("app_secret"):
        raise ConsentError(_("Enter the Meta app's id and secret and save before connecting."))
    state = secrets.token_urlsafe(32)
    now = time.time()
    pending = {k: v for k, v in (session.get(SESSION_KEY) or {}).items()
               if v.get("at", 0) > now - STATE_SECONDS}
    for old in sorted(pending, key=lambda k: pending[k]["at"])[:-(MAX_PENDING - 1)]:
        del pending[old]
    pending[state] = {"org": channel.organization_id, "channel": channel.pk,
                      "redirect_uri": redirect_uri, "at": now}
    session[SESSION_KEY] = pending
    return dialog_url() + "?" + urlencode({
        "client_id": app_id, "redirect_uri": redirect_uri, "state": state,
        "response_type": "code", "scope": SCOPES[channel.kind]})


def pending_channel_id(session: MutableMapping[str, Any], state: str) -> int | None:
    entry = (session.get(SESSION_KEY) or {}).get(state or "")
    return int(entry["channel"]) if entry else None


def complete(session: MutableMapping[str, Any], organization_id: int,
             params: MutableMapping[str, str]) -> Connected:
    pending = dict(session.get(SESSION_KEY) or {})
    entry = pending.pop(params.get("state") or "", None)
    session[SESSION_KEY] = pending  # a state is good for one answer only
    if entry is None or entry.get("at", 0) < time.time() - STATE_SECONDS:
        raise ConsentError(_("This sign-in answer is unknown or expired (it did not start in "
                             "this browser session). Click Connect again."))
    if entry["org"] != organization_id:
        raise ConsentError(_("This sign-in was started in another organisation."))
    channel = Channel.objects.for_org(organization_id).filter(
        pk=entry["channel"], kind__in=list(PLATFORMS)).first()
    if channel is None:
        raise ConsentError(_("The channel no longer exists."))
    if params.get("error"):
        raise ConsentError(_("Facebook did not grant access: %(detail)s") % {
            "detail": (params.get("error_description") or params["error"])[:300]})
    if not params.get("code"):
        raise ConsentError(_("Facebook's answer has no authorization code."))
    try:
        short = _token(channel, {"redirect_uri": entry["redirect_uri"], "code": params["code"]})
        long_lived = _token(channel, {"grant_type": "fb_exchange_token",
                                      "fb_exchange_token": short["access_token"]})
        page = _page(channel, str(long_lived["access_token"]))
        MessagingClient(str(page["id"]), str(page["access_token"]),
                        of(channel).webhook_object).subscribe()
    except GraphCallError as exc:
        raise ConsentError(_("Facebook refused: %(error)s") % {"error": exc}) from exc
    return _store(channel, long_lived, page)


def _token(channel: Channel, params: dict[str, Any]) -> dict[str, Any]:
    answer = GraphClient("").get("oauth/access_token", {
        "client_id": channel.settings.get("app_id", ""),
        "client_secret": channel.secrets.get("app_secret", ""), **params})
    if not isinstance(answer, dict) or not answer.get("access_token"):
        raise GraphCallError(200, None, "no access token was issued")
    return answer


def _page(channel: Channel, user_token: str) -> dict[str, Any]:
    """The page to connect: the one entered on the channel if any, else the first the
    person manages (with an Instagram professional account, for Instagram)."""
    wanted = str(channel.settings.get("page_id") or "")
    instagram = channel.kind == INSTAGRAM.kind
    for page in GraphClient(user_token).rows("me/accounts", {
            "fields": "id,name,access_token,instagram_business_account{id,username}"}):
        if wanted and str(page.get("id")) != wanted:
            continue
        if instagram and not isinstance(page.get("instagram_business_account"), dict):
            continue
        if page.get("id") and page.get("access_token"):
            return page
    if instagram:
        raise ConsentError(_("None of the pages you manage is linked to an Instagram "
                             "professional account."))
    raise ConsentError(_("You manage no Facebook page that Atende could connect."))


@transaction.atomic
def _store(channel: Channel, user_token: dict[str, Any], page: dict[str, Any]) -> Connected:
    locked = Channel.objects.select_for_update().get(pk=channel.pk)
    stored = locked.secrets
    stored.update(user_token=str(user_token["access_token"]),
                  user_token_expires_at=time.time() + float(
                      user_token.get("expires_in") or 60 * 24 * 3600),
                  page_token=str(page["access_token"]))
    locked.secrets = stored
    options = dict(locked.settings)
    options.update(page_id=str(page["id"]), page_name=str(page.get("name") or ""))
    account = page.get("instagram_business_account")
    if locked.kind == INSTAGRAM.kind and isinstance(account, dict):
        options.update(account_id=str(account.get("id") or ""),
                       username=str(account.get("username") or ""))
    else:
        options.update(account_id=str(page["id"]), username=str(page.get("name") or ""))
    locked.settings = options
    locked.save(update_fields=["encrypted_secrets", "settings"])
    return Connected(locked, options["page_name"], options["username"])


def refresh_due(now: float | None = None) -> int:
    """Exchange the long-lived tokens that expire within REFRESH_BEFORE; returns how many
    were renewed. A failure leaves the channel as it was (tried again next time)."""
    now = now or time.time()
    renewed = 0
    for channel in Channel.objects.filter(kind__in=list(PLATFORMS), is_active=True):
        stored = channel.secrets if channel.encrypted_secrets else {}
        expires = float(stored.get("user_token_expires_at") or 0)
        if not stored.get("user_token") or expires - now > REFRESH_BEFORE:
            continue
        try:
            renew(channel)
            renewed += 1
        except (GraphCallError, ConsentError):
            continue
    return renewed


def renew(channel: Channel) -> None:
    current = str(channel.secrets.get("user_token") or "")
    long_lived = _token(channel, {"grant_type": "fb_exchange_token",
                                  "fb_exchange_token": current})
    _store(channel, long_lived, _page(channel, str(long_lived["access_token"])))
