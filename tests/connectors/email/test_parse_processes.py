"""Mail parsed in the parse processes: the same results as here, with the attachment limit
and the language of the poller, and nothing lost when a process dies."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from django.utils import translation

from atende.channels.models import Channel, InboundStatus
from atende.connectors.email import parse_processes
from atende.connectors.email.imap import poll_imap
from atende.connectors.email.inbound import parse_or_reason
from atende.tickets.models import Ticket
from tests.connectors.email.conftest import Mailbox, customer_mail
from tests.connectors.email.hostile import corpus

ADDRESS = "suporte@example.com"


@pytest.fixture
def processes(settings: Any) -> Iterator[None]:
    settings.EMAIL_PARSE_PROCESSES = 1
    parse_processes._drop_pool()
    yield
    parse_processes._drop_pool()


def _with_attachment(n: int, size: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Ana <ana.{n}@example.com>"
    msg["To"] = ADDRESS
    msg["Subject"] = f"Anexo {n}"
    msg.set_content("segue o arquivo")
    msg.add_attachment(b"x" * size, maintype="application", subtype="pdf",
                       filename=f"arquivo-{n}.pdf")
    return msg.as_bytes()


def _workers() -> set[int]:
    pool = parse_processes._pool
    assert pool is not None
    return set(pool._processes)  # type: ignore[attr-defined]


def test_a_batch_parses_there_as_it_does_here(processes: None) -> None:
    raws = [customer_mail(subject=f"Pedido {n}") for n in range(6)]
    raws += [_with_attachment(n, 3000) for n in range(3)] + list(corpus().values())
    there = parse_processes.start_parse(raws, ADDRESS).results()
    assert _workers() and os.getpid() not in _workers()
    here = [parse_or_reason(raw, ADDRESS) for raw in raws]
    assert there == here
    assert sum(isinstance(r, str) for r in there) < len(raws)


def test_small_batches_and_no_processes_parse_here(settings: Any) -> None:
    parse_processes._drop_pool()
    raws = [customer_mail() for _n in range(parse_processes.MIN_MAILS)]
    settings.EMAIL_PARSE_PROCESSES = 0
    parse_processes.start_parse(raws, ADDRESS).results()
    settings.EMAIL_PARSE_PROCESSES = 1
    parse_processes.start_parse(raws[:-1], ADDRESS).results()
    assert parse_processes._pool is None


def test_the_pollers_limit_and_language_go_with_the_mails(processes: None,
                                                          settings: Any) -> None:
    """Changed at run time here: a parse process started from the settings would not see
    either (it still has the 25 MB limit and pt-BR)."""
    raws = [_with_attachment(n, 5000 if n % 2 else 100) for n in range(10)]
    settings.ATTACHMENT_MAX_BYTES = 1000
    with translation.override("en"):
        results = parse_processes.start_parse(raws, ADDRESS).results()
    for n, parsed in enumerate(results):
        assert not isinstance(parsed, str)
        if n % 2:
            assert not parsed.attachments and "was refused" in parsed.text
        else:
            assert [a.filename for a in parsed.attachments] == [f"arquivo-{n}.pdf"]
    with translation.override("pt-br"):
        [refused] = parse_processes.start_parse(raws, ADDRESS).results()[1:2]
    assert not isinstance(refused, str) and "foi recusado" in refused.text


def test_a_killed_parse_process_loses_no_mail(processes: None) -> None:
    raws = [customer_mail(subject=f"Pedido {n}") for n in range(25)]
    parse_processes.start_parse(raws, ADDRESS).results()  # the pool is up
    for pid in _workers():
        os.kill(pid, signal.SIGKILL)
    results = parse_processes.start_parse(raws, ADDRESS).results()
    assert [r.subject for r in results if not isinstance(r, str)] == [
        f"Pedido {n}" for n in range(25)]
    assert parse_processes._pool is None  # dropped; the next batch starts another
    assert len(parse_processes.start_parse(raws, ADDRESS).results()) == 25
    assert parse_processes._pool is not None


def test_imap_batches_are_parsed_in_the_processes(processes: None, imap_channel: Channel,
                                                  mailbox: Mailbox,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("atende.connectors.email.receive.BATCH_MAILS", 10)
    for n in range(25):
        mailbox.append(customer_mail(subject=f"Caixa {n}"))
    receipts = poll_imap(imap_channel).receipts
    assert [r.status for r in receipts] == [InboundStatus.PROCESSED] * 25
    assert parse_processes._pool is not None
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == sorted(
        f"Caixa {n}" for n in range(25))
    assert all(b"\\Seen" in f for f in mailbox.flags())


def test_a_result_that_does_not_come_back_is_parsed_here() -> None:
    """E.g. a result the pool could not send back: the pool stays, the mails are parsed."""
    from concurrent.futures import Future

    raws = [customer_mail(subject=f"Pedido {n}") for n in range(3)]
    failed: Future[list[Any]] = Future()
    failed.set_exception(RecursionError("maximum recursion depth exceeded while pickling"))
    results = parse_processes.Parsing(raws, ADDRESS, [(0, failed)]).results()
    assert [r.subject for r in results if not isinstance(r, str)] == [
        "Pedido 0", "Pedido 1", "Pedido 2"]
