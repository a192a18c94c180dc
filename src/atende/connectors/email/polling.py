"""Which e-mail channels are due for a poll, and one poll run with its outcome recorded."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.utils import timezone

from atende.channels.models import Channel, ChannelKind
from atende.connectors.email import leases
from atende.connectors.email.client import MailError
from atende.connectors.email.config import POP3, EmailSettings
from atende.connectors.email.imap import PollReport, poll_imap
from atende.connectors.email.models import MailboxState
from atende.connectors.email.oauth import with_token
from atende.connectors.email.pop3 import poll_pop3

logger = logging.getLogger(__name__)
LOCK_SECONDS = 15 * 60
# A channel whose IDLE watcher is live is still polled, as a safety net, but rarely.
IDLE_SAFETY_POLL_SECONDS = 15 * 60


def state_folder(cfg: EmailSettings) -> str:
    return "" if cfg.protocol == POP3 else cfg.folder


def poll_channel(channel_id: int, wait: float = 0) -> PollReport | None:
    """Poll one channel's mailbox unless a poll of it is already running (waiting up to
    `wait` seconds for that one to end: an IDLE wake must not be lost to a poll that
    searched just before the mail arrived). The lock is a row, shared by the worker, the
    IDLE watcher and every machine. Connection and login failures are recorded on the
    mailbox state (shown in the channel's settings)."""
    channel = Channel.objects.filter(pk=channel_id, kind=ChannelKind.EMAIL,
                                     is_active=True).first()
    if channel is None:
        return None
    holder = leases.new_holder()
    deadline = time.monotonic() + wait
    while not leases.acquire(channel.organization_id, channel_id, leases.FETCH, holder,
                             LOCK_SECONDS):
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.2)
    try:
        cfg = EmailSettings.of(channel)
        error = ""
        report = None
        try:
            poll = poll_pop3 if cfg.protocol == POP3 else poll_imap
            report = with_token(channel, lambda token: poll(channel, token))
        except MailError as exc:
            error = str(exc)
            logger.warning("e-mail poll of channel %s failed at %s", channel_id, exc.step)
        MailboxState.objects.update_or_create(
            organization_id=channel.organization_id, channel=channel, folder=state_folder(cfg),
            defaults={"polled_at": timezone.now(), "last_error": error[:2000]},
        )
        return report
    finally:
        leases.release(channel_id, leases.FETCH, holder)


def due_channel_ids() -> list[int]:
    """Active e-mail channels whose poll interval has passed (one query for the states, one
    for the live IDLE watchers)."""
    channels = list(Channel.objects.filter(kind=ChannelKind.EMAIL, is_active=True))
    polled = {(s.channel_id, s.folder): s.polled_at for s in MailboxState.objects.filter(
        channel__in=channels)}
    idling = leases.live_channel_ids(leases.IDLE, [c.pk for c in channels])
    now = timezone.now()
    due = []
    for channel in channels:
        cfg = EmailSettings.of(channel)
        last = polled.get((channel.pk, state_folder(cfg)))
        interval = cfg.poll_seconds
        if channel.pk in idling:
            interval = max(interval, IDLE_SAFETY_POLL_SECONDS)
        if last is None or now - last >= timedelta(seconds=interval - 5):
            due.append(channel.pk)
    return due
