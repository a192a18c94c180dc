"""`atende mail-idle`: one IMAP connection in IDLE per active IMAP channel, so new mail is
taken in within seconds instead of at the next poll (EM-1, CONTRACTS §6.3).

A supervisor re-reads the channels every `RESCAN_SECONDS` and runs one thread per channel:
added channels start, deactivated or deleted ones stop, changed settings restart. A thread
first takes the channel's `idle` lease (one watcher per channel across machines), connects,
and then alternates IDLE (re-issued every `REISSUE_SECONDS`) with the poller's own fetch
(`poll_channel`, under the same `fetch` lease as the periodic poll), repeated while a poll
says more mail is waiting: a backlog is taken in before the next IDLE. Errors reconnect with
backoff; a server without IDLE is left to the poller, which stays the safety net for all.
"""

from __future__ import annotations

import contextlib
import hashlib
import imaplib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import DatabaseError, close_old_connections, connection

from atende.backoff import next_delay
from atende.channels.models import Channel, ChannelKind
from atende.connectors.email import leases
from atende.connectors.email.client import MailError, open_imap
from atende.connectors.email.config import IMAP, EmailSettings
from atende.connectors.email.idle import idle, supports_idle
from atende.connectors.email.imap import select_folder
from atende.connectors.email.oauth import token_for
from atende.connectors.email.polling import poll_channel

logger = logging.getLogger(__name__)

RESCAN_SECONDS = 30.0
REISSUE_SECONDS = 20 * 60.0  # servers may drop an IDLE after 29 min (RFC 2177)
LEASE_SECONDS = 90.0
RENEW_SECONDS = 30.0
NO_IDLE_RECHECK_SECONDS = 3600.0
MAX_BACKOFF_SECONDS = 300.0
FETCH_WAIT_SECONDS = 60.0  # how long a wake waits for a running poll of the same channel
TICK = 1.0


def fingerprint(channel: Channel) -> str:
    """Changes whenever anything the connection depends on changes, but not when OAuth2
    tokens are refreshed (the next connection simply uses the new one)."""
    try:
        secrets = sorted((k, v) for k, v in channel.secrets.items() if not k.startswith("oauth_"))
    except Exception:  # unreadable secrets: the connection will say why
        secrets = [("encrypted", channel.encrypted_secrets)]
    text = repr((channel.is_active, sorted((channel.settings or {}).items()), secrets))
    return hashlib.sha256(text.encode()).hexdigest()


def watched_channels() -> list[Channel]:
    channels = Channel.objects.filter(kind=ChannelKind.EMAIL, is_active=True).order_by("pk")
    return [c for c in channels if EmailSettings.of(c).protocol == IMAP]


@dataclass
class ChannelWatch:
    """One channel's watcher thread."""

    channel_id: int
    organization_id: int
    fingerprint: str
    stop: threading.Event = field(default_factory=threading.Event)
    holder: str = field(default_factory=leases.new_holder)
    # Set when the server does not offer IDLE: the thread ends, the poller carries on.
    no_idle_at: float | None = None
    wakes: int = 0  # catch-ups started (a catch-up is one or more polls)
    fetched: int = 0  # catch-ups finished
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name=f"mail-idle-{self.channel_id}",
                                       daemon=True)
        self.thread.start()

    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def _run(self) -> None:
        attempt = 0
        try:
            while not self.stop.is_set():
                if not self._lease():
                    self.stop.wait(RENEW_SECONDS)  # another watcher has it
                    continue
                try:
                    self._session()
                    attempt = 0
                    if self.no_idle_at is not None:
                        return
                except (MailError, OSError, imaplib.IMAP4.error, DatabaseError) as exc:
                    attempt += 1
                    delay = min(next_delay(attempt).total_seconds() / 5, MAX_BACKOFF_SECONDS)
                    logger.warning("mail-idle: channel %s: %s (again in %.0f s)",
                                   self.channel_id, exc, delay)
                    self._report(leases.report_error, str(exc) or type(exc).__name__)
                    self.stop.wait(delay)
        except Exception:
            logger.exception("mail-idle: channel %s stopped", self.channel_id)
        finally:
            with contextlib.suppress(Exception):
                leases.release(self.channel_id, leases.IDLE, self.holder)
            connection.close()

    def _lease(self) -> bool:
        try:
            return leases.acquire(self.organization_id, self.channel_id, leases.IDLE,
                                  self.holder, LEASE_SECONDS)
        finally:
            _hand_back_db()

    def _session(self) -> None:
        try:
            channel = Channel.objects.filter(pk=self.channel_id).first()
            if channel is None:  # deleted: the supervisor drops this watch
                self.stop.set()
                return
            cfg = EmailSettings.of(channel)
            token = token_for(channel)
        finally:
            _hand_back_db()
        conn = open_imap(cfg.inbound, token)
        try:
            if not supports_idle(conn):
                logger.info("mail-idle: channel %s: no IDLE on the server, polling only",
                            self.channel_id)
                self.no_idle_at = time.monotonic()
                leases.release(self.channel_id, leases.IDLE, self.holder)
                return
            select_folder(conn, cfg.folder)
            self._fetch(conn)  # whatever arrived while nobody was idling
            self._report(leases.report_idling)
            renewed = 0.0  # a long fetch may have outlived the lease: renew at once

            def keep_going() -> bool:
                nonlocal renewed
                if self.stop.is_set():
                    return False
                if time.monotonic() - renewed >= RENEW_SECONDS:
                    if not self._lease():
                        return False  # lost it (e.g. we were stalled): let the holder work
                    renewed = time.monotonic()
                return True

            while keep_going():
                if idle(conn, REISSUE_SECONDS, tick=TICK, keep_going=keep_going):
                    self._fetch(conn)
                    renewed = 0.0
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                conn.logout()

    def _report(self, report: Callable[..., None], *args: str) -> None:
        """What the channel screens show; never a reason for the watcher to stop."""
        try:
            report(self.channel_id, self.holder, *args)
        except DatabaseError:
            logger.warning("mail-idle: channel %s: state not recorded", self.channel_id)
        finally:
            _hand_back_db()

    def _fetch(self, conn: imaplib.IMAP4) -> None:
        """Poll until the folder has no unseen mail left (each poll bounded by its budget),
        keeping the `idle` lease and this connection alive in between. Stops early when a
        poll of the channel elsewhere holds the fetch lease (that one goes on)."""
        self.wakes += 1
        try:
            while True:
                try:
                    report = poll_channel(self.channel_id, wait=FETCH_WAIT_SECONDS)
                finally:
                    _hand_back_db()
                if report is None or not report.more or self.stop.is_set() or not self._lease():
                    return
                # Any EXISTS this answers with is for mail the next poll searches for anyway.
                conn.noop()
        finally:
            self.fetched += 1


def _hand_back_db() -> None:
    """A thread idles for minutes between queries: it must not keep a database connection
    (with PostgreSQL, one of the process's pool) for all that time."""
    connection.close()


class Watcher:
    """Keeps one `ChannelWatch` per active IMAP channel."""

    def __init__(self) -> None:
        self.watches: dict[int, ChannelWatch] = {}
        self.stop = threading.Event()

    def sync(self) -> None:
        close_old_connections()
        try:
            wanted = {c.pk: c for c in watched_channels()}
        finally:
            _hand_back_db()
        for pk, watch in list(self.watches.items()):
            channel = wanted.get(pk)
            if channel is None or fingerprint(channel) != watch.fingerprint:
                self._stop(pk)
            elif watch.no_idle_at is not None:
                if time.monotonic() - watch.no_idle_at >= NO_IDLE_RECHECK_SECONDS:
                    self._stop(pk)
            elif not watch.alive():
                self._stop(pk)  # died on an unexpected error: start afresh
        for pk, channel in wanted.items():
            if pk not in self.watches:
                watch = ChannelWatch(pk, channel.organization_id, fingerprint(channel))
                self.watches[pk] = watch
                watch.start()

    def _stop(self, pk: int) -> None:
        watch = self.watches.pop(pk)
        watch.stop.set()
        # Let it leave IDLE and give its lease back, so a replacement gets it at once.
        if watch.thread is not None:
            watch.thread.join(3 * TICK + 2)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.sync()
            except Exception:
                logger.exception("mail-idle: reading the channels failed")
            self.stop.wait(RESCAN_SECONDS)
        self.shutdown()

    def shutdown(self, timeout: float = 10) -> None:
        watches = list(self.watches.values())
        for watch in watches:
            watch.stop.set()
        deadline = time.monotonic() + timeout
        for watch in watches:
            if watch.thread is not None:
                watch.thread.join(max(0.0, deadline - time.monotonic()))
        self.watches.clear()
