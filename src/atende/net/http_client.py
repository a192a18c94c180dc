"""HTTP to addresses organisations configure, through the SSRF guard at connect time.

The guard sits in httpcore's network backend (its public extension point): httpcore asks
it for a TCP connection to the URL's host; it resolves the name once, checks every address
(`destinations.checked_addresses`) and connects to one of them, by address. TLS still
verifies the certificate for the name (httpcore passes the URL's host as the SNI name).
Proxies from the environment are not used: through a proxy the guard could not see the
address dialled.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx
from django.utils.translation import gettext as _

from atende.net.destinations import UnresolvedName, checked_addresses, parse_url

# httpcore's errors as httpx raises them, most specific first.
ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


class GuardedBackend(httpcore.NetworkBackend):
    """Connects only to addresses the guard allowed, resolving each name once."""

    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        try:
            addresses = checked_addresses(host, port)  # BlockedDestination goes up as is
        except UnresolvedName as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        failure: Exception | None = None
        for address in addresses:
            try:
                return self._backend.connect_tcp(str(address), port, timeout, local_address,
                                                 socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # checked_addresses never returns an empty list
        raise failure

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None
                            ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("Unix sockets are not a destination")

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class GuardedTransport(httpx.BaseTransport):
    """httpx's transport over a connection pool whose connections go through the guard."""

    def __init__(self) -> None:
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(),
                                             network_backend=GuardedBackend())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=request.url.raw_scheme, host=request.url.raw_host,
                             port=request.url.port, target=request.url.raw_path),
            headers=request.headers.raw,
            content=request.stream,  # type: ignore[arg-type]  # a SyncByteStream iterates bytes
            extensions=request.extensions,
        )
        with _httpx_errors(request):
            response = self._pool.handle_request(core_request)
        return httpx.Response(status_code=response.status, headers=response.headers,
                              stream=_ResponseStream(response.stream, request),  # type: ignore[arg-type]
                              extensions=response.extensions)

    def close(self) -> None:
        self._pool.close()


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes], request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        with _httpx_errors(self._request):
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


@contextmanager
def _httpx_errors(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for core_error, httpx_error in ERRORS:
            if isinstance(exc, core_error):
                raise httpx_error(str(exc), request=request) from exc
        raise


def guarded_client(timeout: float) -> httpx.Client:
    """An httpx client for destinations organisations configure. Redirects are not followed
    (a redirect is the receiver's answer, not a new destination)."""
    return httpx.Client(transport=GuardedTransport(), timeout=timeout, follow_redirects=False,
                        trust_env=False)


def post_json(url: str, body: bytes, headers: dict[str, str], timeout: float) -> httpx.Response:
    """POST `body` through the guard. Raises BlockedDestination for a refused URL or
    address, httpx.HTTPError for network failures."""
    parse_url(url)
    with guarded_client(timeout) as client:
        return client.post(url, content=body, headers=headers)


def status_text(response: httpx.Response) -> str:
    """"HTTP 502 Bad Gateway": the status and its standard phrase, never the body nor the
    receiver's own phrase (an internal answer must not be read back through Atende)."""
    phrase = httpx.codes.get_reason_phrase(response.status_code)
    return f"HTTP {response.status_code} {phrase}".strip()


def failure_text(exc: httpx.HTTPError) -> str:
    """A network failure in a few words: the error's kind, not what the other end sent
    (a protocol error's message quotes the bytes received, such as another server's
    banner)."""
    if isinstance(exc, httpx.TimeoutException):
        reason = _("no answer in time")
    elif isinstance(exc, httpx.ConnectError):
        reason = _("could not connect")
    elif isinstance(exc, httpx.ProtocolError):
        reason = _("the answer was not HTTP")
    else:
        reason = _("the connection failed")
    return f"{type(exc).__name__}: {reason}"
