"""An e-mail channel's settings, read once into a typed value.

`Channel.settings` holds the plain values (keys below); `Channel.secrets` the passwords
(`in_password`, `smtp_password`) and OAuth2 tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.files.storage import default_storage

from atende.channels.models import Channel

SSL, STARTTLS, PLAIN = "ssl", "starttls", "none"
IMAP, POP3 = "imap", "pop3"
PASSWORD, OAUTH2 = "password", "oauth2"
TIMEOUT = 10.0  # connect and each read: a dead server must not hold a worker long
DEFAULT_POLL_SECONDS = 60


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    security: str
    username: str
    password: str = ""
    auth: str = PASSWORD


@dataclass(frozen=True)
class InlineImage:
    """An image of the signature, sent as a related part; the HTML refers to `cid:<cid>`."""

    cid: str
    content_type: str
    storage_name: str = ""
    data: bytes = b""  # an image not stored yet (the preview of a pasted image)

    def read(self) -> bytes:
        if not self.storage_name:
            return self.data
        with default_storage.open(self.storage_name, "rb") as stored:
            return bytes(stored.read())


@dataclass(frozen=True)
class EmailSettings:
    address: str
    from_name: str
    protocol: str
    inbound: Endpoint
    folder: str
    pop3_delete: bool
    smtp: Endpoint
    poll_seconds: int
    signature_text: str
    signature_html: str
    reopen_closed: bool
    auto_daily_cap: int
    signature_images: tuple[InlineImage, ...] = ()

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2] or "localhost"

    @classmethod
    def of(cls, channel: Channel) -> EmailSettings:
        s: dict[str, Any] = channel.settings or {}
        secrets = channel.secrets if channel.encrypted_secrets else {}
        auth = s.get("auth", PASSWORD)
        return cls(
            address=str(s.get("address", "")).strip().lower(),
            from_name=str(s.get("from_name", "") or channel.name),
            protocol=s.get("in_protocol", IMAP),
            inbound=Endpoint(
                host=s.get("in_host", ""), port=int(s.get("in_port") or 993),
                security=s.get("in_security", SSL), username=s.get("in_username", ""),
                password=secrets.get("in_password", ""), auth=auth,
            ),
            folder=s.get("in_folder") or "INBOX",
            pop3_delete=bool(s.get("pop3_delete", False)),
            smtp=Endpoint(
                host=s.get("smtp_host", ""), port=int(s.get("smtp_port") or 587),
                security=s.get("smtp_security", STARTTLS),
                username=s.get("smtp_username", ""),
                password=secrets.get("smtp_password", ""), auth=auth,
            ),
            poll_seconds=max(30, int(s.get("poll_seconds") or DEFAULT_POLL_SECONDS)),
            signature_text=s.get("signature_text", ""),
            signature_html=s.get("signature_html", ""),
            reopen_closed=bool(s.get("reopen_closed", True)),
            auto_daily_cap=int(s.get("auto_daily_cap", 3)),
            signature_images=tuple(
                InlineImage(cid=str(i["cid"]), content_type=str(i["content_type"]),
                            storage_name=str(i["storage_name"]))
                for i in s.get("signature_images") or ()),
        )
