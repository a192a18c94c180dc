"""The Consumidor.gov.br company API (CONTRACTS.md §4), through the SSRF guard.

A token is asked with the client id, the authentication code and password, and holds for
the calendar day (it expires at 23:59:59 Brasília time): it is cached per channel until then
and asked again after a 401. Every call sends it with the API version and the authorised
user's CPF. Failures come back as a code and a message; `ConsumidorError.retryable` says
whether trying again later may help (network, 5xx, the platform closed for the hour).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import httpx
from django.core.cache import cache

from atende.channels.models import Channel
from atende.connectors.consumidor_gov import hours
from atende.connectors.consumidor_gov.config import ApiConfig
from atende.connectors.consumidor_gov.hours import BRASILIA
from atende.net import BlockedDestination, guarded_client

TIMEOUT = 20.0
DATE_FORMAT = "%d-%m-%Y"  # the listing's period parameters
USER_AGENT = "api-consumidor"


@dataclass
class ConsumidorError(Exception):
    status: int | None
    message: str
    code: str = ""
    retryable: bool = False

    def __str__(self) -> str:
        where = f"HTTP {self.status}: " if self.status else ""
        code = f"[{self.code}] " if self.code else ""
        return f"{where}{code}{self.message}"[:2000]


@dataclass(frozen=True)
class Credentials:
    client_id: str
    code: str
    password: str
    cpf: str

    @classmethod
    def of(cls, channel: Channel) -> Credentials:
        secrets = channel.secrets if channel.encrypted_secrets else {}
        return cls(str(channel.settings.get("client_id") or ""),
                   str(secrets.get("code") or ""), str(secrets.get("password") or ""),
                   str(channel.settings.get("cpf") or ""))


class ConsumidorClient:
    def __init__(self, credentials: Credentials, config: ApiConfig, *,
                 cache_key: str = "") -> None:
        self.credentials, self.config = credentials, config
        digest = hashlib.sha256(
            f"{credentials.client_id}\0{credentials.code}\0{credentials.password}".encode()
        ).hexdigest()[:16]
        self._cache_key = f"consumidor-gov:token:{cache_key}:{digest}"

    @classmethod
    def for_channel(cls, channel: Channel) -> ConsumidorClient:
        return cls(Credentials.of(channel), ApiConfig.of(channel.settings),
                   cache_key=str(channel.pk or ""))

    # --- calls ----------------------------------------------------------------------------

    def authenticate(self) -> str:
        """A new token, cached until 23:59:59 of today in Brasília."""
        c = self.credentials
        if not (c.client_id and c.code and c.password):
            raise ConsumidorError(None, "the client id, code and password are required")
        response = self._send("POST", self.config.token_path, data={
            "client_id": c.client_id, "client_secret": c.password, "code": c.code,
            "grant_type": "client_credentials"}, headers={
            "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"})
        token = _json(response).get("access_token")
        if not isinstance(token, str) or not token:
            raise ConsumidorError(response.status_code, "the answer has no access_token")
        now = hours.current_time().astimezone(BRASILIA)
        end_of_day = datetime.combine(now.date(), time(23, 59, 59), tzinfo=BRASILIA)
        cache.set(self._cache_key, token, max(1, int((end_of_day - now).total_seconds())))
        return token

    def list_complaints(self, start: date, end: date) -> list[dict[str, Any]]:
        answer = self.call("GET", self.config.list_path, params={
            "dataIniPeriodo": start.strftime(DATE_FORMAT),
            "dataFimPeriodo": end.strftime(DATE_FORMAT)})
        items = _envelope_list(answer, self.config.list_key)
        return [i for i in items if isinstance(i, dict) and i.get("protocolo")]

    def get_complaint(self, protocol: str) -> dict[str, Any]:
        answer = self.call("GET", self.config.detail_path.format(protocolo=protocol))
        return _envelope_object(answer, self.config.detail_key)

    def respond(self, protocol: str, text: str) -> str:
        """Sends the company's answer; returns the platform's id of it (its trâmite), or
        an empty string when the answer names none."""
        answer = self.call("POST", self.config.respond_path.format(protocolo=protocol),
                           json={self.config.respond_text_field: text})
        for key in ("codigo", "codigoTramite", "id"):
            if isinstance(answer, dict) and answer.get(key) not in (None, ""):
                return str(answer[key])
        return ""

    def mark_in_analysis(self, protocol: str) -> bool:
        """Tells the platform the complaint went to an agent, when the path is known."""
        if not self.config.analysis_path:
            return False
        self.call("POST", self.config.analysis_path.format(protocolo=protocol), json={})
        return True

    # --- transport ------------------------------------------------------------------------

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One service call with the day's token; a 401 asks a new token once."""
        token = cache.get(self._cache_key) or self.authenticate()
        try:
            return _json(self._send(method, path, headers=self._headers(token), **kwargs))
        except ConsumidorError as exc:
            if exc.status != 401:
                raise
        cache.delete(self._cache_key)
        return _json(self._send(method, path, headers=self._headers(self.authenticate()),
                                **kwargs))

    def _headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}",
                self.config.version_header: self.config.api_version,
                self.config.cpf_header: self.credentials.cpf,
                "Accept": "application/json", "User-Agent": USER_AGENT}

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = self.config.base_url.rstrip("/") + "/" + path.lstrip("/")
        try:
            with guarded_client(TIMEOUT) as http:
                response = http.request(method, url, **kwargs)
        except BlockedDestination as exc:
            raise ConsumidorError(None, str(exc)) from None
        except httpx.HTTPError as exc:
            # The exception's text may quote the URL with its query: the kind is enough.
            raise ConsumidorError(None, type(exc).__name__, retryable=True) from None
        if response.status_code >= 400:
            raise _error(response)
        return response


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ConsumidorError(response.status_code, "the answer is not JSON") from None


def _error(response: httpx.Response) -> ConsumidorError:
    status = response.status_code
    code, message = "", httpx.codes.get_reason_phrase(status) or "error"
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = str(body.get("codigo") or "")
        message = str(body.get("mensagem") or body.get("message") or message)
    return ConsumidorError(status, message, code,
                           retryable=status >= 500 or status in (408, 429))


def _envelope_list(answer: Any, key: str) -> list[Any]:
    if isinstance(answer, list):
        return answer
    if isinstance(answer, dict):
        if key:
            value = answer.get(key)
            return value if isinstance(value, list) else []
        return next((v for v in answer.values() if isinstance(v, list)), [])
    raise ConsumidorError(None, "unexpected answer to the listing")


def _envelope_object(answer: Any, key: str) -> dict[str, Any]:
    if isinstance(answer, dict):
        if key:
            value = answer.get(key)
        elif "protocolo" in answer:
            value = answer
        else:
            value = next((v for v in answer.values()
                          if isinstance(v, dict) and "protocolo" in v), None)
        if isinstance(value, dict):
            return value
    raise ConsumidorError(None, "unexpected answer: no complaint in it")


def parse_time(value: Any) -> datetime | None:
    """The platform's `dd/MM/yyyy HH:mm:ss` (Brasília) as an aware datetime, or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    for fmt in ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y"):
        try:
            return datetime.strptime(value.strip(), fmt).replace(tzinfo=BRASILIA)
        except ValueError:
            continue
    return None


def format_time(at: datetime) -> str:
    return at.astimezone(BRASILIA).strftime("%d/%m/%Y %H:%M:%S")
