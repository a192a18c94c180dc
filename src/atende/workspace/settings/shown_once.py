"""Secrets shown once, with post/redirect/get: the POST that creates a key stashes its
secrets in the session (encrypted: sessions may sit in the database or Redis) and
redirects; the GET that follows pops them. Reloading that page shows nothing and creates
nothing."""

from __future__ import annotations

from django.http import HttpRequest

from atende.crypto import decrypt_json, encrypt_json

PREFIX = "shown-once:"


def stash(request: HttpRequest, name: str, secrets: dict[str, str]) -> None:
    """Keep `secrets` (label → value; labels translated now) for the next GET of `name`."""
    request.session[PREFIX + name] = encrypt_json(
        {"secrets": [[str(label), value] for label, value in secrets.items()]})


def pop(request: HttpRequest, name: str) -> dict[str, str] | None:
    """The stashed secrets of `name`, removed from the session; None once shown."""
    token = request.session.pop(PREFIX + name, "")
    if not token:
        return None
    return {label: value for label, value in decrypt_json(token).get("secrets", [])}
