"""In-process cost of ingest: `ingest` message by message (runs of one) against
`ingest_many` batches.

    .venv/bin/python bench/ingest_many.py --postgres              # throwaway PG database
    .venv/bin/python bench/ingest_many.py --messages 2000 --batch 200
    .venv/bin/python bench/ingest_many.py --postgres --profile per-message   # pyinstrument

WhatsApp-shaped messages (a text, the sender's number as thread key) on one channel with a
default SLA policy and one webhook subscription: half from new customers, half replies to
their tickets. `--shape mail`: e-mail-shaped instead (10 % of the first messages with a
20 KB attachment and an extra identity; the replies threaded by their ticket-number token
only, one in ten with an attachment). Each way runs on its own customers, one transaction
per message (as the worker did) or per batch (as the WhatsApp drain does). Reports CPU ms
per message of this process (`time.process_time`, steadier than wall time on a shared
machine) and SQL statements per message.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from typing import Any  # noqa: E402

from bench.scratch_db import throwaway_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--shape", choices=["whatsapp", "mail"], default="whatsapp")
    parser.add_argument("--profile", choices=["per-message", "batched"],
                        help="print pyinstrument's profile of one way")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="atende-ingest-bench-"))
    os.environ.update(ATENDE_DATA_DIR=str(work / "data"), DJANGO_SETTINGS_MODULE="atende.settings",
                      ATENDE_LOG_LEVEL="WARNING")
    os.environ.pop("REDIS_URL", None)
    try:
        with throwaway_database(args.postgres, "atende_ingest_bench"):
            run(args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(_HERE.parent / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    from django.db.models import Max
    from django.test import override_settings

    from atende.channels.connector import ContactRef, InboundAttachment, InboundMessage
    from atende.channels.models import Channel, ChannelKind
    from atende.tenancy.models import Organization, Service
    from atende.tickets.models import SlaPolicy, Ticket
    from atende.tickets.services.ingest import ingest, ingest_many
    from atende.webhooks.services import create_subscription

    org = Organization.objects.create(name="Loja", slug=f"loja-{uuid.uuid4().hex[:6]}")
    service = Service.objects.create(organization=org, name="Vendas")
    channel = Channel.objects.create(organization=org, kind=ChannelKind.WHATSAPP,
                                     name="WhatsApp", service=service)
    channel = Channel.objects.select_related("organization", "service").get(pk=channel.pk)
    SlaPolicy.objects.create(organization=org, name="Padrão", is_default=True,
                             first_response_minutes=60, resolution_minutes=480)
    # The SSRF guard would resolve the name when saving; the benchmark never delivers.
    with override_settings(ALLOW_PRIVATE_WEBHOOKS=True):
        create_subscription(org.pk, "https://hooks.example.com/atende", ["ticket.created"])

    def messages(way: str) -> list[Any]:
        customers = args.messages // 2
        out = []
        for i in range(2):  # first everyone's first message, then everyone's reply
            for n in range(customers):
                number = f"+55119{hash((way, n)) % 10**8:08d}"
                if args.shape == "mail":
                    out.append(mail(way, n, i, number))
                    continue
                out.append(InboundMessage(
                    channel_id=channel.pk, external_id=f"wamid.{way}.{n}.{i}",
                    contact=ContactRef("whatsapp", number, f"Cliente {n}"),
                    text=f"mensagem {i} do cliente {n}", thread_keys=(f"wa:{number}",),
                    thread_key=f"wa:{number}"))
        return out

    def mail(way: str, n: int, i: int, phone: str) -> Any:
        # Tickets are numbered in the order the first mails come in, from `first_number`.
        attach = n % 10 == 0
        return InboundMessage(
            channel_id=channel.pk, external_id=f"{way}.{n}.{i}@example.com.br",
            contact=ContactRef("email", f"cliente.{n}@{way}.example.com.br", f"Cliente {n}"),
            subject=f"Pedido {n}", text=f"mensagem {i} do cliente {n}",
            html=f"<p>mensagem {i} do cliente {n}</p>",
            attachments=(InboundAttachment(f"nota-{n}.pdf", "application/pdf",
                                           bytes(20 * 1024)),) if attach else (),
            extra_identities=(ContactRef("phone", phone),) if attach and i == 0 else (),
            thread_key=f"{way}.{n}.{i}@example.com.br",
            ticket_number=first_number[0] + n if i else None)

    first_number = [1]

    def per_message(batch: list[Any]) -> None:
        for inbound in batch:
            with transaction.atomic():
                ingest(inbound, channel)

    def batched(batch: list[Any]) -> None:
        for start in range(0, len(batch), args.batch):
            with transaction.atomic():
                results = ingest_many(channel, batch[start:start + args.batch])
            assert not any(isinstance(r, Exception) for r in results), results

    ways = {"per-message": per_message, "batched": batched}
    statements = [0]

    def count(execute: Any, *a: Any) -> Any:
        statements[0] += 1
        return execute(*a)

    print(f"{connection.vendor}, {args.messages} messages, batches of {args.batch}, "
          f"load average {os.getloadavg()[0]:.1f}")
    for name, way in ways.items():
        first_number[0] = (Ticket.objects.filter(organization=org).aggregate(
            last=Max("number"))["last"] or 0) + 1
        batch = messages(name)
        profiler = None
        if args.profile == name:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
        statements[0] = 0
        with connection.execute_wrapper(count):
            cpu, wall = time.process_time(), time.perf_counter()
            way(batch)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if profiler is not None:
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False, show_all=False))
        n = len(batch)
        print(f"{name:12} CPU {cpu * 1000 / n:6.2f} ms/message  wall {wall * 1000 / n:6.2f} "
              f"ms/message  {statements[0] / n:5.2f} statements/message  ({n / wall:.0f}/s)")
        opened = Ticket.objects.filter(organization=org, number__gte=first_number[0]).count()
        assert opened == args.messages // 2, opened  # every reply found its ticket


if __name__ == "__main__":
    main()
