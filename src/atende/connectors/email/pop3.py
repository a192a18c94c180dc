"""Taking mail in over POP3: UIDL tracking, then delete or keep per the channel setting.

Mails are taken in by batches (`receive.Intake`, one transaction each); a batch's messages are
recorded as seen (and deleted, when so set) only after it was committed. A session takes in
every message not seen yet, `imap.BATCH` at a time, until the poll's budget is spent
(`PollReport.more`, as for IMAP).
"""

from __future__ import annotations

import contextlib
import poplib
import time

from atende.channels.models import Channel
from atende.connectors.email import imap
from atende.connectors.email.client import open_pop3
from atende.connectors.email.config import EmailSettings
from atende.connectors.email.imap import PollReport, out_of_time
from atende.connectors.email.models import Pop3Seen
from atende.connectors.email.receive import Intake, Receipt
from atende.ids import parse_id


def poll_pop3(channel: Channel, token: str = "") -> PollReport:
    """Take in the maildrop's messages not seen yet, batch after batch, until none is left
    or the budget is spent (`more`). Deletions (when so set) take effect at the QUIT; a
    session that ends without one has its committed messages deleted by the next."""
    deadline = time.monotonic() + imap.BUDGET_SECONDS
    cfg = EmailSettings.of(channel)
    conn = open_pop3(cfg.inbound, token)
    try:
        listing = _uidl(conn)
        seen = set(Pop3Seen.objects.for_org(channel.organization_id)
                   .filter(channel=channel).values_list("uidl", flat=True))
        report = PollReport()
        if cfg.pop3_delete:
            # Committed before, but that session ended without QUIT: delete them now.
            for number, uidl in listing:
                if uidl in seen:
                    conn.dele(number)

        def committed(entries: list[tuple[tuple[int, str], Receipt | None]]) -> None:
            """A batch committed: recorded as seen, then marked for deletion."""
            report.receipts.extend(r for _key, r in entries if r is not None)
            Pop3Seen.objects.bulk_create(
                [Pop3Seen(organization_id=channel.organization_id, channel=channel, uidl=uidl)
                 for (_n, uidl), _r in entries], ignore_conflicts=True)
            if cfg.pop3_delete:
                for (number, _uidl), _r in entries:
                    conn.dele(number)

        intake = Intake(channel, committed)
        waiting = [(n, u) for n, u in listing if u not in seen]
        for batches, start in enumerate(range(0, len(waiting), imap.BATCH)):
            if out_of_time(deadline, batches):
                report.more = True
                break
            for number, uidl in waiting[start:start + imap.BATCH]:
                _resp, lines, _octets = conn.retr(number)
                intake.add((number, uidl), b"\r\n".join(lines) + b"\r\n", f"pop3:{uidl}")
        intake.finish()
        # UIDLs no longer on the server can never come back: forget them.
        current = {u for _n, u in listing}
        stale = seen - current
        if stale:
            Pop3Seen.objects.filter(channel=channel, uidl__in=stale).delete()
        conn.quit()  # commits the deletions
        return report
    except BaseException:
        with contextlib.suppress(OSError, poplib.error_proto):
            conn.close()  # without QUIT nothing is deleted
        raise


def _uidl(conn: poplib.POP3) -> list[tuple[int, str]]:
    _resp, lines, _octets = conn.uidl()
    result = []
    for line in lines:
        number, _sep, uidl = line.decode("ascii", "replace").partition(" ")
        message_number = parse_id(number)
        if message_number is not None and uidl:
            result.append((message_number, uidl.strip()[:100]))
    return result
