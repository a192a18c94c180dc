"""E-mail ingest benchmark: Atende against django-helpdesk 2.6.1 on the same mails.

2,000 realistic pt-BR mails (1,400 new, 10 % with a 100 KB PDF; 600 replies, half by
In-Reply-To/References and half by each product's subject token; some with attachments) are
generated once. Atende takes them from a Maildir through the e-mail channel's
`receive.Intake` — the path the IMAP/POP3 pollers use (raw kept, parse, thread, ingest, one
transaction per batch of `--batch` mails, 100 like the pollers) — in this process on a
fresh database. django-helpdesk takes the same files through
its own `get_email` machinery (`process_queue` on a queue with `email_box_type = "local"`),
SQLite, in its own venv (see `helpdesk_site.py`). Prints mails/s, threading correctness and
peak RSS for both. Then `--conversations` generated conversations, taken in by date and
shuffled: one ticket per conversation whatever the arrival order, and the rates.

    .venv/bin/python bench/email_ingest.py                  # both, Atende embedded (SQLite)
    .venv/bin/python bench/email_ingest.py --postgres       # Atende on a throwaway PG database
    .venv/bin/python bench/email_ingest.py --skip-helpdesk --profile /tmp/ingest.prof
    .venv/bin/python bench/email_ingest.py --skip-helpdesk --batch 1   # one mail per transaction
    .venv/bin/python bench/email_ingest.py --parse-only   # parse and raw storage alone
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import json  # noqa: E402
import mailbox  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import unicodedata  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import datetime  # noqa: E402
from email.message import EmailMessage  # noqa: E402
from email.utils import format_datetime  # noqa: E402
from typing import Any  # noqa: E402

from bench.scratch_db import throwaway_database  # noqa: E402

ADDRESS = "suporte@loja.example.com.br"
NAMES = ["Maria Souza", "João Silva", "Ana Oliveira", "Carlos Pereira", "Fernanda Lima",
         "Lucas Costa", "Juliana Alves", "Rafael Gomes", "Patrícia Rocha", "Bruno Martins"]
SUBJECTS = ["Pedido atrasado", "Cobrança em duplicidade", "Troca de produto", "Nota fiscal",
            "Não consigo acessar minha conta", "Cancelamento de assinatura",
            "Produto chegou com defeito", "Dúvida sobre o frete", "Reembolso não recebido"]
BODY = ("Olá, boa tarde.\n\nFiz o pedido {n} na semana passada e até agora não recebi "
        "nenhuma atualização. Já verifiquei o código de rastreio e consta como 'em "
        "trânsito' há cinco dias. Poderiam verificar, por favor?\n\nObrigado(a),\n{name}\n")


@dataclass(frozen=True)
class Spec:
    """One generated mail, rendered the same for both products but for the subject token."""

    n: int
    name: str
    subject: str
    message_id: str
    in_reply_to: str = ""
    attach: bool = False

    def render(self, subject: str | None = None) -> bytes:
        first = unicodedata.normalize("NFKD", self.name.split()[0].lower()).encode(
            "ascii", "ignore").decode()
        msg = EmailMessage()
        msg["From"] = f"{self.name} <{first}.{self.n}@cliente.example.com.br>"
        msg["To"] = ADDRESS
        msg["Subject"] = subject if subject is not None else self.subject
        msg["Date"] = format_datetime(datetime(2026, 11, 20, 14, 30).astimezone())
        msg["Message-ID"] = f"<{self.message_id}>"
        if self.in_reply_to:
            msg["In-Reply-To"] = f"<{self.in_reply_to}>"
            msg["References"] = f"<{self.in_reply_to}>"
        body = BODY.format(n=self.n, name=self.name)
        msg.set_content(body)
        msg.add_alternative(f"<p>{body}</p>".replace("\n", "<br>"), subtype="html")
        if self.attach:
            msg.add_attachment(random.Random(self.n).randbytes(100 * 1024),
                               maintype="application", subtype="pdf",
                               filename=f"comprovante-{self.n}.pdf")
        return msg.as_bytes()


def peak_rss_mib(pid: int | None = None) -> float:
    """VmHWM of this process (or of `pid`): unlike ru_maxrss it is not inherited across
    fork/exec, so the helpdesk child reports its own peak and not the bench parent's."""
    for line in Path(f"/proc/{pid or 'self'}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def new_id() -> str:
    return f"{uuid.UUID(int=random.getrandbits(128)).hex}@cliente.example.com.br"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--new", type=int, default=1400)
    parser.add_argument("--replies", type=int, default=600)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--skip-helpdesk", action="store_true")
    parser.add_argument("--profile", metavar="FILE", help="cProfile Atende's ingest into FILE")
    parser.add_argument("--batch", type=int, default=100,
                        help="mails per batch, i.e. per transaction")
    parser.add_argument("--parse-only", action="store_true",
                        help="time parse() and store_raw() alone on the same mails, no ingest")
    parser.add_argument("--conversations", type=int, default=300,
                        help="generated conversations taken in by date and shuffled (0: none)")
    parser.add_argument("--procs", type=int, default=1,
                        help="Atende processes over disjoint shares of the mails (PostgreSQL)")
    args = parser.parse_args()
    if args.procs > 1 and (not args.postgres or args.profile):
        parser.error("--procs needs --postgres (one SQLite writer at a time) and no --profile")
    random.seed(42)
    work = Path(tempfile.mkdtemp(prefix="atende-email-bench-"))
    os.environ.update(ATENDE_DATA_DIR=str(work / "data"), DJANGO_SETTINGS_MODULE="atende.settings",
                      ATENDE_LOG_LEVEL="WARNING", ATENDE_TASKS_IMMEDIATE="1")
    try:
        with throwaway_database(args.postgres, "atende_email_bench"):
            run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


class Helpdesk:
    """django-helpdesk in its own venv and project; each phase is one child process that
    runs `process_queue` on a local directory and reports what it threaded."""

    def __init__(self, work: Path) -> None:
        from bench import helpdesk_site

        self.venv = helpdesk_site.ensure_venv()
        self.root = work / "helpdesk"
        helpdesk_site.prepare(self.root, self.venv)
        (self.root / "ingest_bench.py").write_text(helpdesk_site.EMAIL_INGEST)
        self.peak_kib = 0
        self.cpu = 0.0

    def ingest(self, mails: Iterable[tuple[str, bytes]], phase: str) -> tuple[
            float, dict[str, int]]:
        """Seconds spent in process_queue, and ticket id by Message-ID of these mails."""
        folder = self.root / f"mail-{phase}"
        folder.mkdir()
        message_ids = []
        for n, (message_id, raw) in enumerate(mails):
            (folder / f"{n:05d}.eml").write_bytes(raw)
            message_ids.append(message_id)
        ids = self.root / f"ids-{phase}.json"
        ids.write_text(json.dumps(message_ids))
        out = subprocess.run(
            [str(self.venv / "bin" / "python"), "ingest_bench.py", str(folder), str(ids)],
            cwd=self.root, env={**os.environ, "DJANGO_SETTINGS_MODULE": "hdsite.settings"},
            check=True, timeout=3600, capture_output=True, text=True).stdout
        report = json.loads(out.strip().splitlines()[-1])
        self.peak_kib = max(self.peak_kib, report["rss_kib"])
        self.cpu += report["cpu"]
        if report["left"]:
            print(f"  helpdesk left {report['left']} mails unprocessed in {phase}")
        return report["seconds"], {k: int(v) for k, v in report["tickets"].items()}


def run(args: argparse.Namespace, work: Path) -> None:
    sys.path.insert(0, str(_HERE.parent / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from atende.channels.models import Channel, ChannelKind
    from atende.tenancy.models import Organization
    from atende.tickets.models import Message

    org = Organization.objects.create(name="Loja", slug=f"loja-{uuid.uuid4().hex[:6]}")
    channel = Channel(organization=org, kind=ChannelKind.EMAIL, name="Suporte",
                      settings={"address": ADDRESS})
    channel.secrets = {}
    channel.save()
    originals = [Spec(n, random.choice(NAMES), random.choice(SUBJECTS), new_id(),
                      attach=n % 10 == 0) for n in range(args.new)]
    if args.parse_only:
        parse_alone(channel, originals, args.replies)
        return
    helpdesk = None if args.skip_helpdesk else Helpdesk(work)

    box = mailbox.Maildir(work / "Maildir", create=True)
    for spec in originals:
        box.add(spec.render())
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()

    # Atende's CPU seconds (steadier than wall time): all, and system time
    cpu = [0.0, 0.0]
    pool = worker_pool(args.procs) if args.procs > 1 else None

    def atende(raws: Iterable[bytes]) -> float:
        started = time.perf_counter()
        cpu_started, sys_started = time.process_time(), os.times().system
        if args.procs > 1:
            cpu[0] += in_processes(pool, channel.pk, list(raws), args.batch, args.procs)
            return time.perf_counter() - started
        if profiler:
            profiler.enable()
        take_in(channel, raws, args.batch)
        if profiler:
            profiler.disable()
        cpu[0] += time.process_time() - cpu_started
        cpu[1] += os.times().system - sys_started
        return time.perf_counter() - started

    a_new = atende(box.get_bytes(key) for key in sorted(box.keys()))
    ids = [s.message_id for s in originals]
    a_ticket = dict(Message.objects.filter(channel=channel, external_id__in=ids)
                    .values_list("external_id", "ticket_id"))
    a_number = dict(Message.objects.filter(channel=channel, external_id__in=ids)
                    .values_list("external_id", "ticket__number"))
    h_new, h_ticket = (helpdesk.ingest(((s.message_id, s.render()) for s in originals), "new")
                       if helpdesk else (0.0, {}))

    replies: list[tuple[Spec, Spec]] = []  # (reply, the original it answers)
    for n in range(args.replies):
        target = random.choice(originals)
        by_header = n % 2 == 0
        replies.append((Spec(10_000 + n, random.choice(NAMES), "Re: pedido", new_id(),
                             in_reply_to=target.message_id if by_header else "",
                             attach=by_header and n % 20 == 0), target))

    def subject(reply: Spec, token: str) -> str | None:
        return None if reply.in_reply_to else f"RES: [{token}] sobre o meu pedido"

    # Rendered before the clock starts (the Maildir phase only reads files while timed).
    a_replies = atende([r.render(subject(r, f"#TKT-{a_number[t.message_id]:06d}"))
                        for r, t in replies])
    got = dict(Message.objects.filter(channel=channel,
                                      external_id__in=[r.message_id for r, _t in replies])
               .values_list("external_id", "ticket_id"))
    a_threaded = sum(got.get(r.message_id) == a_ticket[t.message_id] for r, t in replies)
    if pool is not None:
        pool.shutdown()
    if profiler:
        profiler.dump_stats(args.profile)

    total = args.new + args.replies
    profile = "postgres" if args.postgres else "sqlite"
    rss = peak_rss_mib()
    report(f"atende ({profile})", total, args, a_new, a_replies, a_threaded, rss)
    print(f"  atende CPU (batch {args.batch}, {args.procs} process(es)): "
          f"{cpu[0] * 1000 / total:.2f} ms/mail, of which {cpu[1] * 1000 / total:.2f} "
          f"system time; "
          f"load average {os.getloadavg()[0]:.1f}")
    if helpdesk:
        h_replies, h_got = helpdesk.ingest(
            ((r.message_id, r.render(subject(r, f"support-{h_ticket.get(t.message_id, 0)}")))
             for r, t in replies), "replies")
        h_threaded = sum(h_got.get(r.message_id) == h_ticket.get(t.message_id, -1)
                         for r, t in replies)
        report("django-helpdesk 2.6.1 (sqlite)", total, args, h_new, h_replies, h_threaded,
               helpdesk.peak_kib / 1024)
        print(f"  helpdesk CPU in process_queue(): {helpdesk.cpu * 1000 / total:.1f} ms/mail")
        ratio = (total / (a_new + a_replies)) / (total / (h_new + h_replies))
        print(f"ratio atende/helpdesk: {ratio:.1f}x (target >= 10x)")
    if args.conversations:
        arrival_orders(org, args, helpdesk)


def arrival_orders(org: Any, args: argparse.Namespace, helpdesk: Helpdesk | None) -> None:
    """Generated conversations (2 to 12 mails: References chains, Outlook ids, missing
    headers, auto-replies; `tests/fakes/mail_threads.py`) taken in by date and shuffled,
    each on a fresh channel: mails/s and whether each conversation ended as one ticket
    holding only its own mails; django-helpdesk's threading of the same shuffled files."""
    from tests.fakes import mail_threads

    from atende.channels.models import Channel, ChannelKind
    from atende.tickets.models import Direction, Message

    corpus = mail_threads.corpus(random.Random(7), args.conversations, ADDRESS)
    by_date = sorted((m for c in corpus for m in c.mails), key=lambda m: m.sent_at)
    shuffled = by_date[:]
    random.Random(8).shuffle(shuffled)
    for name, mails in (("date order", by_date), ("shuffled order", shuffled)):
        channel = Channel(organization=org, kind=ChannelKind.EMAIL, name=name,
                          settings={"address": ADDRESS})
        channel.secrets = {}
        channel.save()
        started = time.perf_counter()
        take_in(channel, [m.raw for m in mails], args.batch)
        seconds = time.perf_counter() - started
        tickets: dict[int, set[int]] = {}
        for text, ticket_id in Message.objects.filter(
                channel=channel, direction=Direction.INBOUND).values_list("text", "ticket_id"):
            number = re.search(r"da conversa (\d+)\.", text)
            tickets.setdefault(int(number.group(1)) if number else -1, set()).add(ticket_id)
        rate = len(mails) / seconds
        print(f"atende, {len(corpus)} conversations ({len(mails)} mails) in {name}: "
              f"{rate:.1f} mails/s; {_threading(tickets, len(corpus))}")
    if helpdesk:
        # Its report keys tickets by Message-ID: the mails without one are left out.
        with_id = [m for m in shuffled if m.message_id]
        seconds, got = helpdesk.ingest(((m.message_id, m.raw) for m in with_id), "shuffled")
        tickets = {}
        for mail in with_id:
            tickets.setdefault(mail.conversation, set()).add(got.get(mail.message_id, -1))
        print(f"django-helpdesk 2.6.1, the same shuffled mails with a Message-ID "
              f"({len(with_id)}): {len(with_id) / seconds:.1f} mails/s; "
              f"{_threading(tickets, len(corpus))}")
        print(f"ratio atende/helpdesk in shuffled order: "
              f"{rate / (len(with_id) / seconds):.1f}x")


def _threading(tickets: dict[int, set[int]], conversations: int) -> str:
    """`tickets`: the tickets each conversation's mails are on."""
    whole = sum(len(t) == 1 for t in tickets.values())
    on: dict[int, int] = {}
    for ticket_ids in tickets.values():
        for ticket_id in ticket_ids:
            on[ticket_id] = on.get(ticket_id, 0) + 1
    mixed = sum(n > 1 for n in on.values())
    return (f"{whole}/{conversations} conversations on one ticket, "
            f"{sum(len(t) for t in tickets.values())} tickets, {mixed} mixing conversations")


def parse_alone(channel: Any, originals: list[Spec], replies: int) -> None:
    """CPU ms per mail of `parse` (3 rounds: the first one warms the caches) and of storing
    the raws (a file per batch of 100 as `receive` does; a file per mail as before, new
    files then the same again), without a profiler's overhead."""
    from atende.connectors.email import raw_store
    from atende.connectors.email.inbound import parse

    raws = [s.render() for s in originals]
    for n in range(replies):
        target = random.choice(originals)
        by_header = n % 2 == 0
        reply = Spec(10_000 + n, random.choice(NAMES), "Re: pedido", new_id(),
                     in_reply_to=target.message_id if by_header else "",
                     attach=by_header and n % 20 == 0)
        raws.append(reply.render(None if by_header else "RES: [#TKT-000123] sobre o meu pedido"))

    def cpu_ms(step: Any) -> float:
        started = time.process_time()
        for raw in raws:
            step(raw)
        return (time.process_time() - started) * 1000 / len(raws)

    rounds = [cpu_ms(lambda raw: parse(raw, ADDRESS)) for _round in range(3)]
    print(f"parse: {' / '.join(f'{r:.3f}' for r in rounds)} CPU ms/mail ({len(raws)} mails)")
    started = time.process_time()
    for n in range(0, len(raws), 100):
        raw_store.store_batch(channel, raws[n:n + 100])
    batches = (time.process_time() - started) * 1000 / len(raws)
    new, again = (cpu_ms(lambda raw: raw_store.store_one(channel, raw)) for _round in range(2))
    print(f"raws stored: {batches:.3f} CPU ms/mail by batches of 100; a file per mail "
          f"{new:.3f} (new files), {again:.3f} (already stored); "
          f"load average {os.getloadavg()[0]:.1f}")


def take_in(channel: Any, raws: Iterable[bytes], batch: int) -> None:
    """As a poller does (`receive.Intake`): batches of `batch` mails, the next one parsed
    (in the parse processes) while the one before is committed."""
    from atende.connectors.email import receive

    receive.BATCH_MAILS = batch
    intake = receive.Intake(channel, lambda entries: None)
    for n, raw in enumerate(raws):
        intake.add(n, raw, "maildir")
    intake.finish()


def _worker_setup() -> None:
    sys.path.insert(0, str(_HERE.parent / "src"))
    import django

    django.setup()


def _share(channel_id: int, raws: list[bytes], batch: int) -> float:
    """One worker process: its share of the mails; its CPU seconds."""
    from atende.channels.models import Channel

    started = time.process_time()
    take_in(Channel.objects.select_related("organization", "service").get(pk=channel_id),
            raws, batch)
    return time.process_time() - started


def worker_pool(procs: int) -> Any:
    """`procs` processes, started and set up before the clock runs. Spawned: a forked child
    would share the parent's database connection pool."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(procs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_setup)
    list(pool.map(time.sleep, [0.5] * procs))  # every worker up
    return pool


def in_processes(pool: Any, channel_id: int, raws: list[bytes], batch: int,
                 procs: int) -> float:
    """Disjoint shares of the mails in `procs` processes (as several pollers would take
    several mailboxes); the sum of their CPU seconds."""
    return sum(pool.map(_share, [channel_id] * procs,
                        [raws[n::procs] for n in range(procs)], [batch] * procs))


def report(name: str, total: int, args: argparse.Namespace, new: float, replies: float,
           threaded: int, rss_mib: float) -> None:
    print(f"{name}: {total} mails in {new + replies:.1f}s = {total / (new + replies):.1f} "
          f"mails/s (new {args.new / new:.1f}/s, replies {args.replies / replies:.1f}/s); "
          f"threading {threaded}/{args.replies}; peak RSS {rss_mib:.0f} MiB")


if __name__ == "__main__":
    main()
