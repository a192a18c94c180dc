"""How an e-mail channel's mailbox is being read, for the channel screens: live through IMAP
IDLE, polled at its interval, or failing (the last error and when). Read from what the
poller (`MailboxState`) and the IDLE watcher (its `idle` `MailboxLease`) record: two indexed
queries for any number of channels, never a connection to the mail server."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from atende.channels.models import Channel, ChannelKind
from atende.connectors.email import leases
from atende.connectors.email.config import EmailSettings
from atende.connectors.email.models import MailboxLease, MailboxState
from atende.connectors.email.polling import state_folder

LIVE, POLLING, INACTIVE = "live", "polling", "inactive"
FAILING = "failing"  # the last poll (or IDLE wake) could not read the mailbox
IDLE_FAILING = "idle_failing"  # the IDLE connection fails; polling still reads the mailbox


@dataclass(frozen=True)
class MailboxStatus:
    state: str  # one of the constants above
    poll_seconds: int
    checked_at: datetime | None = None  # the last poll (or IDLE wake), successful or not
    live_since: datetime | None = None
    error: str = ""
    error_at: datetime | None = None

    @property
    def poll_minutes(self) -> int:
        return max(1, round(self.poll_seconds / 60))


def mailbox_status(channel: Channel) -> MailboxStatus:
    return mailbox_statuses([channel])[channel.pk]


def mailbox_statuses(channels: Iterable[Channel]) -> dict[int, MailboxStatus]:
    """The status of each e-mail channel among `channels` (others are left out), in two
    queries whatever their number."""
    mail = [c for c in channels if c.kind == ChannelKind.EMAIL]
    if not mail:
        return {}
    ids = [c.pk for c in mail]
    org_ids = {c.organization_id for c in mail}
    states = {(s.channel_id, s.folder): s for s in MailboxState.objects.filter(
        organization_id__in=org_ids, channel_id__in=ids)}
    watchers = {lease.channel_id: lease for lease in MailboxLease.objects.filter(
        organization_id__in=org_ids, channel_id__in=ids, purpose=leases.IDLE,
        expires_at__gt=timezone.now())}
    result = {}
    for channel in mail:
        cfg = EmailSettings.of(channel)
        result[channel.pk] = _status(channel, cfg, states.get((channel.pk, state_folder(cfg))),
                                     watchers.get(channel.pk))
    return result


def _status(channel: Channel, cfg: EmailSettings, state: MailboxState | None,
            watcher: MailboxLease | None) -> MailboxStatus:
    checked_at = state.polled_at if state else None
    every = cfg.poll_seconds
    if not channel.is_active:
        return MailboxStatus(INACTIVE, every, checked_at)
    # Reading the mailbox failed the last time: nothing else matters as much.
    if state is not None and state.last_error:
        return MailboxStatus(FAILING, every, checked_at, error=state.last_error,
                             error_at=checked_at)
    if watcher is not None and watcher.idle_since is not None:
        return MailboxStatus(LIVE, every, checked_at, live_since=watcher.idle_since)
    if watcher is not None and watcher.last_error:
        return MailboxStatus(IDLE_FAILING, every, checked_at, error=watcher.last_error,
                             error_at=watcher.error_at)
    return MailboxStatus(POLLING, every, checked_at)
