"""The provider's HTTP API: 360dialog's Cloud API (`waba-v2`, header `D360-API-KEY`) and, on
the same code, Meta's Cloud API direct (Bearer token, paths under the phone number id).

Every call returns or raises in the provider's terms; `ProviderError.retryable` says whether
trying again later may help (network errors, 429, 5xx) or not (any other 4xx).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings

from atende import json_input
from atende.channels import meta
from atende.channels.models import Channel

DIALOG360 = "360dialog"
META = "meta"
DEFAULT_BASE_URLS = {DIALOG360: "https://waba-v2.360dialog.io",
                     META: "https://graph.facebook.com/v21.0"}
TIMEOUT = 15.0
RETRYABLE_STATUSES = frozenset({408, 429})


@dataclass
class ProviderError(Exception):
    """A refused or failed call. `code` is the WhatsApp error code when the body had one."""

    status: int | None
    code: int | None
    title: str
    details: str = ""
    retryable: bool = False

    def __str__(self) -> str:
        head = f"{self.code}: {self.title}" if self.code is not None else self.title
        where = f"HTTP {self.status}: " if self.status else ""
        return f"{where}{head}{' — ' + self.details if self.details else ''}"[:2000]


@dataclass(frozen=True)
class Media:
    content: bytes
    mime_type: str


class WhatsAppClient:
    def __init__(self, provider: str, api_key: str, *, base_url: str = "",
                 phone_number_id: str = "", waba_id: str = "") -> None:
        self.provider = provider if provider in DEFAULT_BASE_URLS else DIALOG360
        self.api_key = api_key
        self.base_url = (base_url or _configured_base(self.provider)).rstrip("/")
        self.phone_number_id = phone_number_id
        self.waba_id = waba_id

    @classmethod
    def for_channel(cls, channel: Channel) -> WhatsAppClient:
        options = channel.settings
        return cls(str(options.get("provider") or DIALOG360),
                   str(channel.secrets.get("api_key") or ""),
                   base_url=str(options.get("base_url") or ""),
                   phone_number_id=str(options.get("phone_number_id") or ""),
                   waba_id=str(options.get("waba_id") or ""))

    # --- messages -------------------------------------------------------------------------

    def send(self, to: str, kind: str, content: dict[str, Any],
             *, reply_to: str = "") -> str:
        """Send one message; returns its wamid."""
        body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual",
                                "to": to, "type": kind, kind: content}
        if reply_to:
            body["context"] = {"message_id": reply_to}
        answer = self._json("POST", self._messages_path(), json=body)
        try:
            return str(answer["messages"][0]["id"])
        except (KeyError, IndexError, TypeError):
            raise ProviderError(None, None, f"unexpected answer: {str(answer)[:300]}") from None

    def send_text(self, to: str, text: str) -> str:
        return self.send(to, "text", {"body": text, "preview_url": False})

    def send_template(self, to: str, name: str, language: str, params: list[str]) -> str:
        template: dict[str, Any] = {"name": name, "language": {"code": language}}
        if params:
            template["components"] = [{"type": "body", "parameters": [
                {"type": "text", "text": p} for p in params]}]
        return self.send(to, "template", template)

    # --- media ----------------------------------------------------------------------------

    def upload_media(self, filename: str, content: bytes, mime_type: str) -> str:
        path = f"/{self.phone_number_id}/media" if self.provider == META else "/media"
        answer = self._json("POST", path, data={"messaging_product": "whatsapp"},
                            files={"file": (filename, content, mime_type)})
        try:
            return str(answer["id"])
        except (KeyError, TypeError):
            raise ProviderError(None, None, f"unexpected answer: {str(answer)[:300]}") from None

    def download_media(self, media_id: str) -> Media:
        meta = self._json("GET", f"/{media_id}")
        if not isinstance(meta, dict) or not meta.get("url"):
            raise ProviderError(None, None, f"no URL for media {media_id}")
        response = self._request("GET", self._download_url(str(meta["url"])))
        mime = str(meta.get("mime_type") or response.headers.get("content-type") or "")
        return Media(response.content, mime.split(";")[0].strip() or "application/octet-stream")

    def _download_url(self, url: str) -> str:
        """360dialog serves Meta's media through its own host (same path and query)."""
        if self.provider == META:
            return url
        base = urlsplit(self.base_url)
        parts = urlsplit(url)
        path = base.path.rstrip("/") + parts.path
        return urlunsplit((base.scheme, base.netloc, path, parts.query, ""))

    # --- configuration --------------------------------------------------------------------

    def set_webhook(self, url: str, headers: dict[str, str]) -> dict[str, Any]:
        answer = self._json("POST", "/v1/configs/webhook", json={"url": url, "headers": headers})
        return answer if isinstance(answer, dict) else {}

    def get_webhook(self) -> dict[str, Any]:
        answer = self._json("GET", "/v1/configs/webhook")
        return answer if isinstance(answer, dict) else {}

    def list_templates(self) -> list[dict[str, Any]]:
        if self.provider == META:
            return self._meta_templates()
        answer = self._json("GET", "/v1/configs/templates",
                            params={"limit": 1000, "offset": 0, "sort": "id"})
        rows = answer.get("waba_templates") if isinstance(answer, dict) else None
        return [r for r in rows or [] if isinstance(r, dict)]

    def _meta_templates(self) -> list[dict[str, Any]]:
        """Graph API: `GET /{waba-id}/message_templates?status=APPROVED`, following the
        cursor pages (bounded, in case a page points at itself)."""
        if not self.waba_id:
            raise ProviderError(None, None, "the WhatsApp Business Account id is not set")
        return list(meta.pages(
            lambda url, params: self._json("GET", url, params=params),
            f"/{self.waba_id}/message_templates",
            {"status": "APPROVED", "limit": 250,
             "fields": "name,language,status,category,components"}))

    # --- transport ------------------------------------------------------------------------

    def _messages_path(self) -> str:
        return f"/{self.phone_number_id}/messages" if self.provider == META else "/messages"

    def _headers(self) -> dict[str, str]:
        if self.provider == META:
            return meta.bearer(self.api_key)
        return {"D360-API-KEY": self.api_key}

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        if url.startswith("/"):
            url = self.base_url + url
        try:
            with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as http:
                response = http.request(method, url, headers=self._headers(), **kwargs)
        except httpx.HTTPError as exc:
            raise ProviderError(None, None, f"{type(exc).__name__}: {exc}",
                                retryable=True) from exc
        if response.status_code >= 400:
            raise _error(response)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._request(method, path, **kwargs)
        try:
            return json_input.loads(response.content)
        except ValueError:
            return {}


def _configured_base(provider: str) -> str:
    overrides = getattr(settings, "WHATSAPP_BASE_URLS", {}) or {}
    return str(overrides.get(provider) or DEFAULT_BASE_URLS[provider])


def _error(response: httpx.Response) -> ProviderError:
    """The error in any of the shapes 360dialog and Meta answer with (CONTRACTS §1.7, §2.6)."""
    status = response.status_code
    retryable = status >= 500 or status in RETRYABLE_STATUSES
    try:
        body = json_input.loads(response.content)
    except ValueError:
        body = None
    code: int | None = None
    title, details = response.text[:300] or response.reason_phrase, ""
    graph = meta.graph_error(body)
    if graph is not None:  # Meta / Cloud passthrough
        code, title, details = graph.code, graph.message or title, graph.details
    elif isinstance(body, dict):
        if isinstance(body.get("errors"), list) and body["errors"]:  # On-Premise
            error = body["errors"][0] if isinstance(body["errors"][0], dict) else {}
            code = _int(error.get("code"))
            title = str(error.get("title") or title)
            details = str(error.get("details") or "")
        elif isinstance(body.get("meta"), dict):  # 360dialog's own layer
            title = str(body["meta"].get("developerMessage") or title)
        elif isinstance(body.get("error"), str):
            title = body["error"]
    return ProviderError(status, code, title, details, retryable=retryable)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
