"""The anonymous visitor: a signed token the widget keeps in localStorage.

The token names the channel and the visitor; a visitor whose host site signed its user id
(HMAC-SHA256 with the widget's identity secret) is that user on every device. Everything a
visitor reads is found through `thread_key(visitor)`, which only the server can mint, so
changing ids in a request never reaches another visitor's conversation.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.core import signing

from atende.connectors.webchat.widget import Widget

SALT = "atende.webchat.visitor"
MAX_AGE_SECONDS = 180 * 24 * 3600


class BadToken(Exception):
    pass


@dataclass(frozen=True)
class Visitor:
    channel_id: int
    id: str  # random, or "u:<user id>" once the host vouched for the user
    name: str = ""
    email: str = ""

    @property
    def key(self) -> str:
        return f"webchat:{self.channel_id}:{self.id}"

    @property
    def verified(self) -> bool:
        return self.id.startswith("u:")


def thread_key(visitor: Visitor) -> str:
    return visitor.key


def issue(visitor: Visitor) -> str:
    return signing.dumps({"c": visitor.channel_id, "v": visitor.id, "n": visitor.name,
                          "e": visitor.email}, salt=SALT, compress=True)


def read(token: str, widget: Widget) -> Visitor:
    """The visitor a token names, for this widget only; raises BadToken."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.BadSignature as exc:
        raise BadToken(str(exc)) from None
    if not isinstance(data, dict) or data.get("c") != widget.channel.pk \
            or not isinstance(data.get("v"), str):
        raise BadToken("token of another widget")
    return Visitor(widget.channel.pk, data["v"], str(data.get("n") or ""),
                   str(data.get("e") or ""))


def identity_hash(secret: str, user_id: str) -> str:
    """What the host site computes server-side: hex HMAC-SHA256 of its user id."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def new_visitor(widget: Widget, *, name: str = "", email: str = "", user_id: str = "",
                user_hash: str = "") -> Visitor:
    """A fresh anonymous visitor, or the host's signed-in user when the hash proves it.
    Raises BadToken for a user id whose hash does not match (or a widget without a
    secret): claiming to be someone is refused, not downgraded silently."""
    if user_id:
        secret = widget.identity_secret
        if not secret or not hmac.compare_digest(identity_hash(secret, user_id),
                                                 user_hash.lower()):
            raise BadToken("identity hash does not match")
        return Visitor(widget.channel.pk, f"u:{user_id[:120]}", name[:120], email[:254])
    return Visitor(widget.channel.pk, secrets.token_urlsafe(16), name[:120], email[:254])
