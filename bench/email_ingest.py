"""E-mail ingest benchmark: 2,000 realistic pt-BR mails (1,400 new, 600 replies, half by
In-Reply-To/References and half by the `[#TKT-…]` subject token; some with 100 KB
attachments) written to a Maildir, then taken in by the e-mail channel's `receive()` — the
same path the IMAP/POP3 pollers use (raw kept, parse, thread, ingest) — in one process on a
fresh database. Prints mails/s, threading correctness and peak RSS.

    .venv/bin/python bench/email_ingest.py                 # embedded profile (SQLite)
    .venv/bin/python bench/email_ingest.py --postgres      # a throwaway PostgreSQL database

The django-helpdesk 2.6.1 side (its `get_email` on a local-directory mailbox) is not
written yet; see docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import mailbox
import os
import random
import resource
import sys
import tempfile
import time
import unicodedata
import uuid
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
NAMES = ["Maria Souza", "João Silva", "Ana Oliveira", "Carlos Pereira", "Fernanda Lima",
         "Lucas Costa", "Juliana Alves", "Rafael Gomes", "Patrícia Rocha", "Bruno Martins"]
SUBJECTS = ["Pedido atrasado", "Cobrança em duplicidade", "Troca de produto", "Nota fiscal",
            "Não consigo acessar minha conta", "Cancelamento de assinatura",
            "Produto chegou com defeito", "Dúvida sobre o frete", "Reembolso não recebido"]
BODY = ("Olá, boa tarde.\n\nFiz o pedido {n} na semana passada e até agora não recebi "
        "nenhuma atualização. Já verifiquei o código de rastreio e consta como 'em "
        "trânsito' há cinco dias. Poderiam verificar, por favor?\n\nObrigado(a),\n{name}\n")


def mail(n: int, name: str, subject: str, *, in_reply_to: str = "", attach: bool = False
         ) -> tuple[EmailMessage, str]:
    first = unicodedata.normalize("NFKD", name.split()[0].lower()).encode("ascii", "ignore")
    address = f"{first.decode()}.{n}@cliente.example.com.br"
    message_id = f"{uuid.uuid4().hex}@cliente.example.com.br"
    msg = EmailMessage()
    msg["From"] = f"{name} <{address}>"
    msg["To"] = "suporte@loja.example.com.br"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now().astimezone())
    msg["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
        msg["References"] = f"<{in_reply_to}>"
    msg.set_content(BODY.format(n=n, name=name))
    msg.add_alternative(f"<p>{BODY.format(n=n, name=name)}</p>".replace("\n", "<br>"),
                        subtype="html")
    if attach:
        msg.add_attachment(random.randbytes(100 * 1024), maintype="application",
                           subtype="pdf", filename=f"comprovante-{n}.pdf")
    return msg, message_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--new", type=int, default=1400)
    parser.add_argument("--replies", type=int, default=600)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    random.seed(42)
    work = Path(tempfile.mkdtemp(prefix="atende-email-bench-"))
    os.environ.update(ATENDE_DATA_DIR=str(work / "data"), DJANGO_SETTINGS_MODULE="atende.settings",
                      ATENDE_LOG_LEVEL="WARNING", ATENDE_TASKS_IMMEDIATE="1")
    db_name = ""
    if args.postgres:
        import psycopg

        db_name = f"atende_email_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db_name}"')
        os.environ["DATABASE_URL"] = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + db_name
    try:
        run(args, work)
    finally:
        if db_name:
            import psycopg
            from django.db import connections

            connections.close_all()
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def run(args: argparse.Namespace, work: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from atende.connectors.email.receive import receive
    from atende.connectors.models import Channel, ChannelKind
    from atende.tenancy.models import Organization
    from atende.tickets.models import Message

    org = Organization.objects.create(name="Loja", slug=f"loja-{uuid.uuid4().hex[:6]}")
    channel = Channel(organization=org, kind=ChannelKind.EMAIL, name="Suporte",
                      settings={"address": "suporte@loja.example.com.br"})
    channel.secrets = {}
    channel.save()

    box = mailbox.Maildir(work / "Maildir", create=True)
    originals: list[str] = []
    for n in range(args.new):
        msg, message_id = mail(n, random.choice(NAMES), random.choice(SUBJECTS),
                               attach=n % 10 == 0)
        box.add(msg.as_bytes())
        originals.append(message_id)

    started = time.perf_counter()
    for key in sorted(box.keys()):
        receive(channel, box.get_bytes(key), source="maildir")
    first_phase = time.perf_counter() - started

    by_id = dict(Message.objects.filter(channel=channel, external_id__in=originals)
                 .values_list("external_id", "ticket_id"))
    numbers = dict(Message.objects.filter(channel=channel, external_id__in=originals)
                   .values_list("external_id", "ticket__number"))
    replies = Path(work / "replies")
    replies.mkdir()
    expected: dict[str, int] = {}
    for n in range(args.replies):
        target = random.choice(originals)
        if n % 2:
            subject = f"RES: [#TKT-{numbers[target]:06d}] sobre o meu pedido"
            msg, message_id = mail(10_000 + n, random.choice(NAMES), subject)
        else:
            msg, message_id = mail(10_000 + n, random.choice(NAMES), "Re: pedido",
                                   in_reply_to=target, attach=n % 20 == 0)
        (replies / f"{n:05d}.eml").write_bytes(msg.as_bytes())
        expected[message_id] = by_id[target]

    started = time.perf_counter()
    for path in sorted(replies.iterdir()):
        receive(channel, path.read_bytes(), source="maildir")
    second_phase = time.perf_counter() - started

    got = dict(Message.objects.filter(channel=channel, external_id__in=list(expected))
               .values_list("external_id", "ticket_id"))
    threaded = sum(1 for mid, ticket in expected.items() if got.get(mid) == ticket)
    total = args.new + args.replies
    elapsed = first_phase + second_phase
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    profile = "postgres" if args.postgres else "sqlite"
    print(f"atende ({profile}): {total} mails in {elapsed:.1f}s = {total / elapsed:.1f} mails/s"
          f" (new {args.new / first_phase:.1f}/s, replies {args.replies / second_phase:.1f}/s)")
    print(f"threading: {threaded}/{args.replies} replies in the right ticket")
    print(f"peak RSS: {rss_mib:.0f} MiB")


if __name__ == "__main__":
    main()
