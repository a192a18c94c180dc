"""Inbound mail parsed in other processes, so that a poller parses its next batch while it
commits the one before.

The parse is the larger part of a mail's CPU (the stdlib's MIME parser is pure Python) and
needs no database; the commit needs the parse. Alone, a poller does one after the other; with
`EMAIL_PARSE_PROCESSES` they overlap and the parse is shared between processes.

One pool per process, started on first use and kept: its workers are started by a
`forkserver` (never a fork of a process holding threads and database connections) and set
Django up once. What the parse reads from the settings or the thread (the attachment limit,
the language of the notes it adds to a mail) is passed with each call. A pool that breaks (a
worker killed) is dropped and the mails are parsed here instead: nothing is lost to it.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import translation

if TYPE_CHECKING:
    from atende.connectors.email.inbound import ParsedMail

# A parse process imports this module before its Django is set up (`_set_up`): the parse,
# which needs the apps, is imported in the functions.

logger = logging.getLogger(__name__)

# Below this many mails a batch is parsed here: the round trip would cost more than it saves.
MIN_MAILS = 8
# Mails per task: small enough that the workers share a batch evenly, large enough that a
# task's round trip (~0.1 ms) stays small beside its parse.
CHUNK_MAILS = 10

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()

type Result = ParsedMail | str  # the parsed mail, or why it cannot be read


class Parsing:
    """The parse of a batch under way; `results()` waits for it."""

    def __init__(self, raws: Sequence[bytes], address: str,
                 chunks: list[tuple[int, Future[list[Result]]]]) -> None:
        self._raws, self._address, self._chunks = raws, address, chunks

    def results(self) -> list[Result]:
        from atende.connectors.email.inbound import parse_or_reason

        results: list[Result] = []
        broken = False
        for start, future in self._chunks:
            try:
                results.extend(future.result())
            except Exception as exc:  # the parse itself never raises: the pool failed
                broken = broken or isinstance(exc, BrokenProcessPool)
                logger.warning("e-mail parse process failed (%s): mails parsed here instead",
                               type(exc).__name__)
                chunk = self._raws[start:start + CHUNK_MAILS]
                results.extend(parse_or_reason(raw, self._address) for raw in chunk)
        if broken:
            _drop_pool()
        return results


def start_parse(raws: Sequence[bytes], address: str) -> Parsing:
    """Begin parsing `raws`: in the parse processes when there are any and the batch is
    worth it, else here and now."""
    pool = _get_pool() if len(raws) >= MIN_MAILS else None
    if pool is None:
        return _done(raws, address)
    limit, language = settings.ATTACHMENT_MAX_BYTES, translation.get_language()
    try:
        chunks = [(start, pool.submit(_parse_chunk, raws[start:start + CHUNK_MAILS], address,
                                      limit, language))
                  for start in range(0, len(raws), CHUNK_MAILS)]
    except (BrokenProcessPool, RuntimeError):  # broken, or shut down at interpreter exit
        _drop_pool()
        return _done(raws, address)
    return Parsing(raws, address, chunks)


def _done(raws: Sequence[bytes], address: str) -> Parsing:
    from atende.connectors.email.inbound import parse_or_reason

    future: Future[list[Result]] = Future()
    future.set_result([parse_or_reason(raw, address) for raw in raws])
    return Parsing(raws, address, [(0, future)])


def _parse_chunk(raws: Sequence[bytes], address: str, limit: int,
                 language: str | None) -> list[Result]:
    """In a parse process."""
    from atende.connectors.email.inbound import parse_or_reason

    with translation.override(language):
        return [parse_or_reason(raw, address, attachment_limit=limit) for raw in raws]


def _get_pool() -> ProcessPoolExecutor | None:
    global _pool
    if settings.EMAIL_PARSE_PROCESSES <= 0:
        return None
    with _pool_lock:
        if _pool is None:
            context = multiprocessing.get_context("forkserver")
            _pool = ProcessPoolExecutor(settings.EMAIL_PARSE_PROCESSES, mp_context=context,
                                        initializer=_set_up)
        return _pool


def _set_up() -> None:
    """A parse process: Django's settings and apps, as in the poller."""
    import django

    django.setup()


def _drop_pool() -> None:
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


def warm_up() -> None:
    """Start the parse processes now (as a long-running poller has them), e.g. before a
    measurement."""
    pool = _get_pool()
    if pool is not None:
        for future in [pool.submit(_parse_chunk, [], "", 0, None)
                       for _n in range(settings.EMAIL_PARSE_PROCESSES)]:
            future.result()
