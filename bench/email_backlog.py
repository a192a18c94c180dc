"""E-mail backlog benchmark (issue 15): a mailbox holding 10,000 unread mails, as after an
outage, taken in by the channel's own entry point on a real Dovecot.

The mails (generated as in `email_ingest.py`: pt-BR, 10 % with a 100 KB PDF) are written
straight into the user's Maildir, as a delivery agent would, and Dovecot indexes them once
before the clock starts (a live server has its index). Then the clock runs from the
connection to the last ticket:

- `--via idle` (default): `atende mail-idle`'s `Watcher` starts the channel's watch; it
  connects, catches up and goes into IDLE. The clock stops when the catch-up ended.
- `--via poll`: the periodic poll's task (`poll_email_channel`, tasks run at once), which
  queues itself again while a poll's time budget leaves mail waiting.
- `--protocol pop3` (with `--via poll`): the same through POP3, deleting what it took.

Prints mails/s, polls, Atende's CPU ms/mail, the load average and peak RSS.

    .venv/bin/python bench/email_backlog.py                       # SQLite (embedded)
    .venv/bin/python bench/email_backlog.py --postgres            # a throwaway PG database
    .venv/bin/python bench/email_backlog.py --via poll --protocol pop3 --mails 2000
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from typing import Any  # noqa: E402

from tests.fakes.dovecot import PASSWORD, Dovecot, available  # noqa: E402

from bench.email_ingest import ADDRESS, NAMES, SUBJECTS, Spec, new_id, peak_rss_mib  # noqa: E402
from bench.scratch_db import throwaway_database  # noqa: E402

USER = "suporte@loja.example.com.br"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mails", type=int, default=10_000)
    parser.add_argument("--attach-every", type=int, default=10,
                        help="one mail in N carries a 100 KB PDF (0: none)")
    parser.add_argument("--via", choices=["idle", "poll"], default="idle")
    parser.add_argument("--protocol", choices=["imap", "pop3"], default="imap")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--max-seconds", type=float, default=1800)
    args = parser.parse_args()
    if args.protocol == "pop3" and args.via == "idle":
        parser.error("IDLE is IMAP's: use --via poll with --protocol pop3")
    if not available():
        parser.error("needs Dovecot (/usr/sbin/dovecot) and root, as the tests do")
    random.seed(42)
    work = Path(tempfile.mkdtemp(prefix="atende-backlog-bench-"))
    os.environ.update(ATENDE_DATA_DIR=str(work / "data"), DJANGO_SETTINGS_MODULE="atende.settings",
                      ATENDE_LOG_LEVEL="WARNING", ATENDE_TASKS_IMMEDIATE="1",
                      # The operator's allowance for a mail server on this machine (the SSRF
                      # guard refuses loopback otherwise).
                      ATENDE_ALLOWED_PRIVATE_NETWORKS="127.0.0.1/32")
    os.environ.pop("REDIS_URL", None)
    try:
        with throwaway_database(args.postgres, "atende_backlog_bench"), Dovecot() as server:
            run(args, server)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def fill(server: Dovecot, count: int, attach_every: int) -> float:
    """The mails written into the Maildir, then indexed by Dovecot; MB written."""
    conn = server.imap(USER)
    conn.select("INBOX")  # creates the Maildir
    conn.logout()
    size = 0
    for n in range(count):
        spec = Spec(n, random.choice(NAMES), random.choice(SUBJECTS), new_id(),
                    attach=bool(attach_every) and n % attach_every == 0)
        size += server.deliver(USER, spec.render()).stat().st_size
    conn = server.imap(USER)
    _typ, data = conn.select("INBOX")  # Dovecot reads new/ and builds its index
    conn.logout()
    assert int(data[0]) == count, data
    return size / 1e6


def run(args: argparse.Namespace, server: Dovecot) -> None:
    sys.path.insert(0, str(_HERE.parent / "src"))
    import django

    django.setup()
    import logging

    from django.core.management import call_command

    for name in ("huey", "django.tasks"):  # a line per task run otherwise
        logging.getLogger(name).setLevel(logging.WARNING)
    call_command("migrate", verbosity=0)
    from atende.channels.models import Channel, ChannelKind
    from atende.tenancy.models import Organization
    from atende.tickets.models import Message

    started = time.perf_counter()
    megabytes = fill(server, args.mails, args.attach_every)
    print(f"mailbox: {args.mails} mails, {megabytes:.0f} MB, written and indexed in "
          f"{time.perf_counter() - started:.1f} s")
    org = Organization.objects.create(name="Loja", slug=f"loja-{uuid.uuid4().hex[:6]}")
    port = server.pop3_port if args.protocol == "pop3" else server.imap_port
    channel = Channel(organization=org, kind=ChannelKind.EMAIL, name="Suporte", settings={
        "address": ADDRESS, "in_protocol": args.protocol, "in_host": server.host,
        "in_port": port, "in_security": "none", "in_username": USER, "pop3_delete": True})
    channel.secrets = {"in_password": PASSWORD}
    channel.save()

    polls = count_polls()
    cpu_started = time.process_time()
    started = time.perf_counter()
    if args.via == "idle":
        caught_up = idle_catch_up(channel.pk, args.max_seconds)
    else:
        from atende.connectors.email.tasks import poll_email_channel

        poll_email_channel.enqueue(channel.pk)
        caught_up = True
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    taken = Message.objects.filter(channel=channel).count()
    profile = "postgres" if args.postgres else "sqlite"
    print(f"atende ({profile}, {args.protocol} via {args.via}): {taken} of {args.mails} mails "
          f"in {seconds:.1f} s = {taken / seconds:.1f} mails/s from connect to last ticket; "
          f"{len(polls)} poll(s); CPU {cpu * 1000 / max(taken, 1):.2f} ms/mail (this "
          f"process; Dovecot's apart); load average {os.getloadavg()[0]:.1f}; peak RSS "
          f"{peak_rss_mib():.0f} MiB" + ("" if caught_up else "; NOT caught up in time"))
    if taken != args.mails:
        sys.exit(f"{args.mails - taken} mails were not taken in")


def count_polls() -> list[float]:
    """A timestamp per poll run (the real poll still runs)."""
    from atende.connectors.email import polling, watcher

    calls: list[float] = []
    real = polling.poll_channel

    def poll_channel(channel_id: int, wait: float = 0) -> Any:
        calls.append(time.perf_counter())
        return real(channel_id, wait)

    polling.poll_channel = poll_channel  # type: ignore[assignment]
    watcher.poll_channel = poll_channel  # type: ignore[assignment]
    return calls


def idle_catch_up(channel_id: int, max_seconds: float) -> bool:
    """The watcher's first catch-up (connect, fetch until nothing is unseen) has ended."""
    from atende.connectors.email import watcher

    running = watcher.Watcher()
    try:
        running.sync()
        watch = running.watches[channel_id]
        deadline = time.perf_counter() + max_seconds
        while watch.fetched < 1:
            if time.perf_counter() > deadline or not watch.alive():
                return False
            time.sleep(0.05)
        return True
    finally:
        running.shutdown()


if __name__ == "__main__":
    main()
