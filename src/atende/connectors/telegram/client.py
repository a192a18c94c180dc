"""The Telegram Bot API (`https://api.telegram.org/bot<token>/<method>`, CONTRACTS §9).

Every answer is `{"ok": true, "result": …}` or `{"ok": false, "error_code": …,
"description": …, "parameters": {"retry_after": …}}`; `TelegramError.retryable` says
whether trying again later may help (network errors, 429, 5xx) and `retry_after` how long
Telegram asked to wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from atende.channels.models import Channel

DEFAULT_BASE_URL = "https://api.telegram.org"
TIMEOUT = 15.0
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # bots may download files up to 20 MB
ALLOWED_UPDATES = ("message", "edited_message")


@dataclass
class TelegramError(Exception):
    status: int | None
    description: str
    retry_after: float | None = None
    retryable: bool = False

    def __str__(self) -> str:
        where = f"HTTP {self.status}: " if self.status else ""
        return f"{where}{self.description}"[:2000]


@dataclass(frozen=True)
class TelegramFile:
    content: bytes
    file_path: str


class TelegramClient:
    def __init__(self, token: str, *, base_url: str = "") -> None:
        self.token = token
        self.base_url = (base_url or base_url_setting()).rstrip("/")

    @classmethod
    def for_channel(cls, channel: Channel) -> TelegramClient:
        return cls(str(channel.secrets.get("bot_token") or ""),
                   base_url=str(channel.settings.get("base_url") or ""))

    # --- the bot and its webhook ----------------------------------------------------------

    def get_me(self) -> dict[str, Any]:
        return _object(self.call("getMe"))

    def set_webhook(self, url: str, secret_token: str) -> None:
        self.call("setWebhook", {"url": url, "secret_token": secret_token,
                                 "allowed_updates": list(ALLOWED_UPDATES)})

    def get_webhook_info(self) -> dict[str, Any]:
        return _object(self.call("getWebhookInfo"))

    def delete_webhook(self) -> None:
        self.call("deleteWebhook")

    # --- messages -------------------------------------------------------------------------

    def send_message(self, chat_id: str, text: str,
                     reply_markup: dict[str, Any] | None = None) -> str:
        """Returns the sent message's id. `reply_markup`: a keyboard to answer with."""
        params: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if reply_markup is not None:
            params["reply_markup"] = reply_markup
        return _message_id(self.call("sendMessage", params))

    def send_file(self, chat_id: str, filename: str, content: bytes, content_type: str,
                  *, caption: str = "", photo: bool = False) -> str:
        """sendPhoto (a picture shown inline) or sendDocument, as a multipart upload."""
        method, field = ("sendPhoto", "photo") if photo else ("sendDocument", "document")
        data = {"chat_id": chat_id, **({"caption": caption} if caption else {})}
        return _message_id(self.call(method, data=data,
                                     files={field: (filename, content, content_type)}))

    def download(self, file_id: str) -> TelegramFile:
        """getFile, then the file from `/file/bot<token>/<file_path>`."""
        found = _object(self.call("getFile", {"file_id": file_id}))
        path = str(found.get("file_path") or "")
        if not path:
            raise TelegramError(None, f"no file path for {file_id}")
        response = self._request("GET", f"{self.base_url}/file/bot{self.token}/{path}")
        if len(response.content) > DOWNLOAD_LIMIT:
            raise TelegramError(None, "the file is larger than 20 MB")
        return TelegramFile(response.content, path)

    # --- transport ------------------------------------------------------------------------

    def call(self, method: str, params: dict[str, Any] | None = None, *,
             data: dict[str, Any] | None = None, files: dict[str, Any] | None = None) -> Any:
        url = f"{self.base_url}/bot{self.token}/{method}"
        if files is not None:
            response = self._request("POST", url, data=data, files=files)
        else:
            response = self._request("POST", url, json=params or {})
        try:
            answer = response.json()
        except ValueError:
            raise TelegramError(response.status_code, "the answer is not JSON") from None
        if not isinstance(answer, dict) or not answer.get("ok"):
            raise TelegramError(response.status_code, "unexpected answer")
        return answer.get("result")

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        if not self.token:
            raise TelegramError(None, "no bot token")
        try:
            with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as http:
                response = http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            # The message may hold the URL, and the URL the token.
            raise TelegramError(None, type(exc).__name__, retryable=True) from None
        if response.status_code >= 400:
            raise _error(response)
        return response


def base_url_setting() -> str:
    return str(getattr(settings, "TELEGRAM_BASE_URL", "") or DEFAULT_BASE_URL)


def _error(response: httpx.Response) -> TelegramError:
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    description, retry_after = response.reason_phrase or "error", None
    if isinstance(body, dict):
        description = str(body.get("description") or description)
        parameters = body.get("parameters")
        if isinstance(parameters, dict) and isinstance(parameters.get("retry_after"),
                                                       int | float):
            retry_after = float(parameters["retry_after"])
    return TelegramError(status, description, retry_after,
                         retryable=status >= 500 or status in (408, 429))


def _object(result: Any) -> dict[str, Any]:
    if not isinstance(result, dict):
        raise TelegramError(None, "unexpected answer")
    return result


def _message_id(result: Any) -> str:
    message_id = _object(result).get("message_id")
    if message_id is None:
        raise TelegramError(None, "the answer has no message id")
    return str(message_id)
