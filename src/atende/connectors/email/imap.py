"""Taking unread mail in from an IMAP folder (CONTRACTS §6.3).

Only `UNSEEN` messages above the last UID taken in are fetched, with `BODY.PEEK[]` so the
fetch itself marks nothing. Mails are taken in by batches (`receive.Intake`, one transaction
each); a batch's mails get `\\Seen` only after it was committed (ingested or quarantined).
A changed UIDVALIDITY restarts from UID 1: Message-ID dedupe keeps that safe.

A poll searches again after every `BATCH` mails and goes on while unseen mail is left (a
backlog after an outage is taken in at once, not a batch per poll interval), until
`BUDGET_SECONDS` are spent: then the report says `more`, and the caller polls again after
giving others their turn.
"""

from __future__ import annotations

import contextlib
import imaplib
import time
from dataclasses import dataclass, field

from atende.channels.models import Channel
from atende.connectors.email.client import MailError, open_imap
from atende.connectors.email.config import EmailSettings
from atende.connectors.email.models import MailboxState
from atende.connectors.email.receive import Intake, Receipt

BATCH = 200  # mails per search; a poll searches again until nothing unseen is left
# A poll stops starting batches after this long, so one mailbox's backlog holds a worker (and
# the channel's fetch lease) for a bounded time; `PollReport.more` asks for another poll.
BUDGET_SECONDS = 30.0


@dataclass
class PollReport:
    receipts: list[Receipt] = field(default_factory=list)
    more: bool = False  # the budget ran out with mail still waiting on the server


def out_of_time(deadline: float, batches: int) -> bool:
    """The poll's budget is spent; the first batch is always taken (a poll never ends
    without progress)."""
    return batches > 0 and time.monotonic() >= deadline


def quote_folder(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def poll_imap(channel: Channel, token: str = "") -> PollReport:
    """Take in the folder's unseen mail, batch after batch, until none is left or the
    budget is spent (`more`). Each batch commits on its own and only then is marked seen:
    a poll killed half-way keeps what was committed and leaves the rest unseen."""
    deadline = time.monotonic() + BUDGET_SECONDS
    cfg = EmailSettings.of(channel)
    conn = open_imap(cfg.inbound, token)
    try:
        uidvalidity = select_folder(conn, cfg.folder)
        state, _ = MailboxState.objects.get_or_create(
            organization_id=channel.organization_id, channel=channel, folder=cfg.folder)
        if state.uidvalidity != uidvalidity:
            state.uidvalidity, state.last_uid = uidvalidity, 0
            state.save(update_fields=["uidvalidity", "last_uid"])
        report = PollReport()

        def committed(entries: list[tuple[int, Receipt | None]]) -> None:
            """A batch committed: marked seen, then remembered as taken in."""
            report.receipts.extend(r for _uid, r in entries if r is not None)
            fetched = [uid for uid, receipt in entries if receipt is not None]
            if fetched:
                conn.uid("STORE", ",".join(map(str, fetched)), "+FLAGS.SILENT", "(\\Seen)")
            state.last_uid = max(uid for uid, _receipt in entries)
            state.save(update_fields=["last_uid"])

        intake = Intake(channel, committed)
        # Searched past the last UID added, not the last committed: the intake may hold
        # added mails not committed yet (still unseen).
        after, batches = state.last_uid, 0
        while uids := unseen_uids(conn, after)[:BATCH]:
            if out_of_time(deadline, batches):
                report.more = True
                break
            for uid in uids:
                # None: expunged meanwhile, only remembered as passed
                intake.add(uid, fetch(conn, uid), f"imap:{uidvalidity}:{uid}")
            after, batches = uids[-1], batches + 1
        intake.finish()
        return report
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            conn.logout()


def select_folder(conn: imaplib.IMAP4, folder: str) -> int:
    """SELECT the folder; its UIDVALIDITY. A missing folder is a MailError("folder")."""
    try:
        typ, data = conn.select(quote_folder(folder))
    except imaplib.IMAP4.error as exc:
        raise MailError("folder", f"{folder}: {exc}") from exc
    if typ != "OK":
        raise MailError("folder", f"{folder}: {_text(data)}")
    _typ, values = conn.response("UIDVALIDITY")
    try:
        return int(values[0]) if values and values[0] else 0
    except (TypeError, ValueError):
        return 0


def unseen_uids(conn: imaplib.IMAP4, after: int) -> list[int]:
    typ, data = conn.uid("SEARCH", "UID", f"{after + 1}:*", "UNSEEN")
    if typ != "OK" or not data or not data[0]:
        return []
    # `n:*` always includes the highest UID, even below n: filter client-side.
    return sorted(u for u in (int(x) for x in data[0].split()) if u > after)


def fetch(conn: imaplib.IMAP4, uid: int) -> bytes | None:
    """The whole message without setting \\Seen; None when it is gone (expunged)."""
    typ, data = conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
    if typ != "OK":
        return None
    for item in data or ():
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def _text(data: object) -> str:
    if isinstance(data, list) and data and isinstance(data[0], bytes):
        return data[0].decode("utf-8", "replace")
    return str(data)
