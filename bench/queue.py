"""The agent's screens at scale: load N tickets / ~10 N messages into a throwaway PostgreSQL
database for one organisation, then time pages server-side (p50/p95 over 200 requests).

    .venv/bin/python bench/queue.py                          # 10k then 100k tickets
    .venv/bin/python bench/queue.py --sizes 10000,100000,1000000 --requests 200
    .venv/bin/python bench/queue.py --sizes 10000 --keep     # keep the database, print its URL

Data are loaded with COPY (psycopg), in batches, with realistic spreads: statuses and
priorities weighted as in a working help desk, 30% unassigned, ~10 messages per ticket
(1-40, skewed), updates over the last 180 days, 5 services, 20 agents, 4 channel kinds.
Columns this script does not set get their model default, so new columns added by a
migration do not break the loader.

Pages are requested through Django's test client (the full middleware stack and templates,
no network) as a signed-in administrator: the queue `/`, the ticket screen `/tickets/<id>/`
(random tickets), the API list `/api/v1/tickets` and a few settings pages. A path that
answers 404 (a screen not built yet in this checkout) is reported as such, not timed.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
BATCH = 20_000

STATUSES = (["new"] * 15 + ["open"] * 25 + ["pending"] * 15 + ["resolved"] * 30
            + ["closed"] * 15)
PRIORITIES = ["low"] * 20 + ["normal"] * 60 + ["high"] * 15 + ["urgent"] * 5
WORDS = ["pedido", "entrega", "boleto", "atraso", "cobrança", "troca", "produto", "nota",
         "fiscal", "cancelamento", "reembolso", "senha", "acesso", "cadastro", "endereço",
         "prazo", "garantia", "defeito", "suporte"]


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def _copy(model: Any, rows: list[dict[str, Any]]) -> None:
    """COPY `rows` (attname → value) into `model`'s table; other columns get defaults."""
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: f.get_default() for f in fields}
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([
                    f.get_db_prep_save(row.get(f.attname, defaults[f.attname]), connection)
                    for f in fields
                ])


def setup_org() -> dict[str, Any]:
    from atende.connectors.models import Channel
    from atende.tenancy.api_keys import generate_api_key
    from atende.tenancy.models import Membership, Organization, Presence, Role, Service, User

    org = Organization.objects.create(name="Bench", slug=f"bench-{os.getpid()}")
    admin = User.objects.create_user("admin@bench.test", "bench-password-1", name="Admin")
    Membership.objects.create(organization=org, user=admin, role=Role.ADMIN)
    services = [Service.objects.create(organization=org, name=f"Serviço {n}") for n in range(5)]
    agents = []
    for n in range(20):
        user = User.objects.create_user(f"agent{n}@bench.test", None, name=f"Agente {n}")
        m = Membership.objects.create(organization=org, user=user, presence=Presence.ONLINE)
        m.services.add(services[n % 5])
        agents.append(user.pk)
    channels = [Channel.objects.create(organization=org, kind=k, name=k, service=services[i])
                for i, k in enumerate(("email", "whatsapp", "api", "webchat"))]
    _key, raw = generate_api_key(org, "bench")
    return {"org": org, "admin": admin, "services": [s.pk for s in services],
            "agents": agents, "channels": [(c.pk, c.kind) for c in channels], "raw_key": raw,
            "loaded": 0, "messages": 0}


def load(state: dict[str, Any], upto: int, rng: random.Random) -> float:
    """Add tickets (with contacts and messages) until the organisation has `upto`."""
    from django.db import connection, transaction

    from atende.contacts.models import Contact
    from atende.tickets.models import Message, Ticket

    org_id = state["org"].pk
    now = datetime.now(UTC)
    started = time.perf_counter()
    while state["loaded"] < upto:
        first = state["loaded"] + 1
        last = min(upto, state["loaded"] + BATCH)
        with transaction.atomic():
            # About three tickets per contact.
            _copy(Contact, [{"organization_id": org_id, "name": f"Cliente {n}",
                             "created_at": now, "updated_at": now}
                            for n in range(first, last + 1, 3)])
            new_contacts = (last - first) // 3 + 1
            contact_ids = list(Contact.objects.filter(organization_id=org_id).order_by("-id")
                               .values_list("id", flat=True)[:new_contacts])
            tickets = []
            for number in range(first, last + 1):
                status = rng.choice(STATUSES)
                channel_id, kind = rng.choice(state["channels"])
                updated = now - timedelta(seconds=rng.randint(0, 180 * 86400))
                created = updated - timedelta(seconds=rng.randint(0, 10 * 86400))
                tickets.append({
                    "organization_id": org_id, "number": number,
                    "subject": _sentence(rng, rng.randint(3, 8)),
                    "priority": rng.choice(PRIORITIES),
                    "status": status, "contact_id": rng.choice(contact_ids),
                    "assignee_id": None if rng.random() < 0.3 else rng.choice(state["agents"]),
                    "service_id": rng.choice(state["services"]), "channel_id": channel_id,
                    "origin": kind, "custom_fields": {}, "created_at": created,
                    "updated_at": updated, "last_inbound_at": updated,
                    "resolved_at": updated if status in ("resolved", "closed") else None,
                    "closed_at": updated if status == "closed" else None,
                })
            _copy(Ticket, tickets)
            rows = Ticket.objects.filter(organization_id=org_id, number__range=(first, last)) \
                .values_list("id", "contact_id", "channel_id", "created_at")
            messages = []
            for ticket_id, contact_id, channel_id, created in rows:
                count = min(40, 1 + int(rng.expovariate(1 / 9)))
                for i in range(count):
                    inbound = i % 2 == 0
                    messages.append({
                        "organization_id": org_id, "ticket_id": ticket_id,
                        "direction": "inbound" if inbound else "outbound",
                        "channel_id": channel_id,
                        "author_contact_id": contact_id if inbound else None,
                        "author_user_id": None if inbound else rng.choice(state["agents"]),
                        "text": _sentence(rng, rng.randint(5, 40)),
                        "delivery_status": "received" if inbound else "delivered",
                        "created_at": created + timedelta(minutes=7 * i),
                    })
            _copy(Message, messages)
            state["messages"] += len(messages)
        state["loaded"] = last
        print(f"  loaded {last:,} tickets / {state['messages']:,} messages", flush=True)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT setval('atende_ticket_number_{int(org_id)}', %s)", [upto])
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def measure(state: dict[str, Any], requests: int, rng: random.Random) -> list[tuple[str, str]]:
    from django.test import Client

    from atende.tickets.models import Ticket

    client = Client(HTTP_ACCEPT_LANGUAGE="pt-br")
    client.force_login(state["admin"])
    api = Client(HTTP_AUTHORIZATION=f"Bearer {state['raw_key']}")
    ids = list(Ticket.objects.filter(organization=state["org"]).order_by("?")
               .values_list("id", flat=True)[:requests])
    targets = [
        ("queue /", client, lambda i: "/"),
        ("ticket /tickets/<id>/", client, lambda i: f"/tickets/{ids[i % len(ids)]}/"),
        ("API GET /api/v1/tickets", api, lambda i: "/api/v1/tickets"),
        ("settings /settings/agents/", client, lambda i: "/settings/agents/"),
        ("settings /settings/channels/", client, lambda i: "/settings/channels/"),
    ]
    results = []
    for label, c, url in targets:
        first = c.get(url(0))
        if first.status_code == 404:
            results.append((label, "404 here (screen not in this checkout)"))
            continue
        if first.status_code != 200:
            results.append((label, f"HTTP {first.status_code}"))
            continue
        for i in range(5):  # warm-up
            c.get(url(i))
        times, cpu = [], []
        for i in range(requests):
            t, t_cpu = time.perf_counter(), time.process_time()
            response = c.get(url(i))
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - t_cpu) * 1000)
            assert response.status_code == 200, (url(i), response.status_code)
        times.sort()
        cpu.sort()
        p95 = times[int(0.95 * len(times)) - 1]
        # CPU time of this process (Django, templates, the driver; not PostgreSQL's): on a
        # shared machine the steadier figure to compare versions with.
        results.append((label, f"p50 {statistics.median(times):6.1f} ms  p95 {p95:6.1f} ms"
                               f"  CPU p50 {statistics.median(cpu):5.1f} ms"
                               f" p95 {cpu[int(0.95 * len(cpu)) - 1]:5.1f} ms"))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    opts = parser.parse_args()

    # This file is named like the stdlib `queue` that psycopg imports: run as a script, its
    # own directory must not shadow the standard library.
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    import psycopg

    db = f"atende_bench_queue_{os.getpid()}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')  # type: ignore[arg-type]
    os.environ.update({
        "DATABASE_URL": PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{db}", "REDIS_URL": REDIS_URL,
        "ATENDE_REDIS_PREFIX": f"atende-bq-{os.getpid()}", "ATENDE_API_RATE_LIMIT": "0",
        "ATENDE_LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "atende.settings",
        "ATENDE_DATA_DIR": tempfile.mkdtemp(prefix="atende-bq-"),
    })
    os.environ.pop("ATENDE_TASKS_IMMEDIATE", None)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    try:
        import django
        from django.conf import settings
        from django.core.management import call_command

        django.setup()
        settings.ALLOWED_HOSTS = ["*"]
        call_command("migrate", verbosity=0)
        rng = random.Random(opts.seed)
        state = setup_org()
        for size in (int(s) for s in opts.sizes.split(",")):
            seconds = load(state, size, rng)
            print(f"\n== {size:,} tickets, {state['messages']:,} messages "
                  f"(loaded this step in {seconds:.0f} s; load average "
                  f"{os.getloadavg()[0]:.1f})")
            for label, figure in measure(state, opts.requests, rng):
                print(f"  {label:32s} {figure}")
        return 0
    finally:
        from django.db import connections

        connections.close_all()
        if opts.keep:
            print(f"kept database {os.environ['DATABASE_URL']}")
        else:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main())
