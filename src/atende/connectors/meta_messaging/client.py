"""The Messenger Platform calls of a connected channel, on the kit's Graph client
(`channels.meta`): the Send API, the User Profile API, the page's webhook subscription,
and downloading an attachment from Meta's CDN."""

from __future__ import annotations

from typing import Any

import httpx

from atende.channels.meta import GraphCallError, GraphClient
from atende.channels.models import Channel
from atende.connectors.meta_messaging.kinds import of
from atende.net import BlockedDestination, guarded_client

SUBSCRIBED_FIELDS = ("messages", "messaging_postbacks", "messaging_seen", "message_reactions",
                     "message_echoes", "message_deliveries", "messaging_referrals")
DOWNLOAD_LIMIT = 25 * 1024 * 1024  # the largest attachment Meta sends (video, file)
WINDOW_CLOSED_CODE, WINDOW_CLOSED_SUBCODE = 10, 2018278


class MessagingClient:
    def __init__(self, page_id: str, page_token: str, platform_object: str,
                 *, base_url: str = "") -> None:
        self.page_id = page_id
        self.graph = GraphClient(page_token, base_url=base_url)
        self.platform_object = platform_object

    @classmethod
    def for_channel(cls, channel: Channel) -> MessagingClient:
        return cls(str(channel.settings.get("page_id") or ""),
                   str(channel.secrets.get("page_token") or ""), of(channel).webhook_object)

    def send(self, recipient: str, message: dict[str, Any], *, tag: str = "") -> str:
        """One message; returns its `message_id`. `tag` (HUMAN_AGENT) sends outside the
        24-hour window."""
        body: dict[str, Any] = {"recipient": {"id": recipient}, "message": message,
                                "messaging_type": "MESSAGE_TAG" if tag else "RESPONSE"}
        if tag:
            body["tag"] = tag
        answer = self.graph.post(f"{self.page_id}/messages", body)
        message_id = answer.get("message_id") if isinstance(answer, dict) else None
        if not message_id:
            raise GraphCallError(200, None, "the answer has no message id")
        return str(message_id)

    def profile(self, user_id: str, fields: str) -> dict[str, Any]:
        answer = self.graph.get(user_id, {"fields": fields})
        return answer if isinstance(answer, dict) else {}

    def page(self) -> dict[str, Any]:
        answer = self.graph.get(self.page_id, {"fields": "id,name"})
        return answer if isinstance(answer, dict) else {}

    def subscribe(self) -> None:
        self.graph.post(f"{self.page_id}/subscribed_apps",
                        params={"subscribed_fields": ",".join(SUBSCRIBED_FIELDS)})

    def subscriptions(self) -> list[dict[str, Any]]:
        return list(self.graph.rows(f"{self.page_id}/subscribed_apps"))


def download(url: str) -> tuple[bytes, str]:
    """An attachment from Meta's CDN (an address in the webhook: through the SSRF guard);
    returns the content and its type. Raises GraphCallError."""
    try:
        with guarded_client(30.0) as http, http.stream("GET", url) as response:
            if response.status_code >= 400:
                raise GraphCallError(response.status_code, None, "the file could not be "
                                     "downloaded", retryable=response.status_code >= 500)
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > DOWNLOAD_LIMIT:
                    raise GraphCallError(None, None, "the file is larger than 25 MB")
                chunks.append(chunk)
            content_type = response.headers.get("content-type", "application/octet-stream")
    except BlockedDestination as exc:
        raise GraphCallError(None, None, str(exc)) from None
    except httpx.HTTPError as exc:
        raise GraphCallError(None, None, type(exc).__name__, retryable=True) from None
    return b"".join(chunks), content_type.split(";")[0].strip()
