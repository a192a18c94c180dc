"""The agent's screens at scale: load N tickets / ~9.4 N messages into a throwaway PostgreSQL
database for one organisation, then time pages server-side (p50/p95 over 200 requests).

    .venv/bin/python bench/screens_at_scale.py                          # 10k then 100k tickets
    .venv/bin/python bench/screens_at_scale.py --sizes 10000,100000,1000000 --requests 200
    .venv/bin/python bench/screens_at_scale.py --sizes 100000 --keep  # keep the database
    .venv/bin/python bench/screens_at_scale.py --reuse atende_bench_queue_123 \
        --sizes 100000,1000000
    .venv/bin/python bench/screens_at_scale.py --reuse atende_bench_queue_123 \
        --sizes 1000000 --explain

The rows are generated inside PostgreSQL (INSERT ... SELECT over generate_series; a 1M
ticket / 9.4M message load takes minutes, not the half hour of the COPY-from-Python loader)
with realistic spreads: statuses and priorities weighted as in a working help desk, 30%
unassigned, one contact per 3 tickets, 1-40 messages per ticket (skewed, ~9.4 on average)
written in time order as a live system writes them, updates over the last 180 days,
5 services, 20 agents, 4 channel kinds, 8 tags on ~45% of the tickets; SLA fields stay
empty (bench/sla.py sets clocks on top). Texts come from pools of generated pt-BR sentences.
Columns this script does not set get their model default, so a column added by a migration
does not break the loader. When a step at least doubles the tables, their secondary indexes
are dropped and rebuilt after the load (faster than maintaining them row by row); then
VACUUM ANALYZE, as autovacuum would have left a production database.

Sizes grow one database: `--sizes 10000,100000,1000000` loads 10k, measures, adds 90k,
measures, adds 900k. `--reuse NAME` measures against a kept database (growing it if a size
is larger than what it holds; created and loaded if it does not exist) and never drops it.

Pages are requested through Django's test client (the full middleware stack and templates,
no network) as a signed-in administrator: the queue `/`, the ticket screen `/tickets/<id>/`
(random tickets), the API list `/api/v1/tickets` and a few settings pages. A path that
answers 404 (a screen not built yet in this checkout) is reported as such, not timed.
`--explain` also runs EXPLAIN (ANALYZE, BUFFERS) on every query of the queue (each sort and
view, as the administrator and as a restricted agent) and of the ticket screen (a ticket
with the most messages) and prints each one's time, buffers and plan nodes.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
DB_PREFIX = "atende_bench_"

WORDS = ["pedido", "entrega", "boleto", "atraso", "cobrança", "troca", "produto", "nota",
         "fiscal", "cancelamento", "reembolso", "senha", "acesso", "cadastro", "endereço",
         "prazo", "garantia", "defeito", "suporte"]
TAGS = ["vip", "reclamação", "boleto", "entrega", "troca", "primeiro contato", "procon",
        "retorno"]
SUBJECT_POOL = 5_000
TEXT_POOL = 20_000
# A step that adds at least this share of what the tables hold rebuilds their indexes.
REBUILD_SHARE = 1.0


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def setup_org() -> dict[str, Any]:
    from atende.channels.models import Channel
    from atende.tenancy.models import Membership, Organization, Presence, Role, Service, User
    from atende.tickets.models import Tag

    org = Organization.objects.create(name="Bench", slug=f"bench-{os.getpid()}")
    admin = User.objects.create_user("admin@bench.test", "bench-password-1", name="Admin")
    Membership.objects.create(organization=org, user=admin, role=Role.ADMIN)
    services = [Service.objects.create(organization=org, name=f"Serviço {n}") for n in range(5)]
    for n in range(20):
        user = User.objects.create_user(f"agent{n}@bench.test", None, name=f"Agente {n}")
        m = Membership.objects.create(organization=org, user=user, presence=Presence.ONLINE)
        m.services.add(services[n % 5])
    for i, k in enumerate(("email", "whatsapp", "api", "webchat")):
        Channel.objects.create(organization=org, kind=k, name=k, service=services[i])
    for name in TAGS:
        Tag.objects.create(organization=org, name=name)
    return org_state(org)


def org_state(org: Any) -> dict[str, Any]:
    """What the loader and the measurements need, read back from the database (so a kept
    database can be measured and grown again). A fresh API key each time: only its hash
    is stored."""
    from django.db.models import Max

    from atende.channels.models import Channel
    from atende.tenancy.api_keys import generate_api_key
    from atende.tenancy.models import Membership, Role, Service
    from atende.tickets.models import Message, Tag, Ticket

    members = Membership.objects.filter(organization=org).select_related("user")
    admin = next(m.user for m in members if m.role == Role.ADMIN)
    agents = sorted(m.user_id for m in members if m.role != Role.ADMIN)
    _key, raw = generate_api_key(org, "bench")
    return {
        "org": org, "admin": admin, "agents": agents,
        "restricted": next(m.user for m in members if m.role != Role.ADMIN),
        "services": list(Service.objects.filter(organization=org).order_by("pk")
                         .values_list("pk", flat=True)),
        "channels": list(Channel.objects.filter(organization=org).order_by("pk")
                         .values_list("pk", "kind")),
        "tags": list(Tag.objects.filter(organization=org).order_by("pk")
                     .values_list("pk", flat=True)),
        "raw_key": raw,
        "loaded": Ticket.objects.filter(organization=org).aggregate(n=Max("number"))["n"] or 0,
        "messages": Message.objects.filter(organization=org).count(),
    }


def _insert_sql(model: Any, values: dict[str, str], params: dict[str, Any]) -> str:
    """`INSERT INTO <model's table> (<every column>) SELECT <values>` (without FROM): `values`
    maps attnames to SQL expressions (named %(...)s parameters); every other column gets
    its model default, added to `params`."""
    from django.db import connection

    quote = connection.ops.quote_name
    columns, exprs = [], []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(quote(f.column))
        if f.attname in values:
            exprs.append(values[f.attname])
        else:
            params[f"default_{f.attname}"] = f.get_db_prep_save(f.get_default(), connection)
            exprs.append(f"CAST(%(default_{f.attname})s AS {f.cast_db_type(connection)})")
    return (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}) "
            f"SELECT {', '.join(exprs)}")


def _secondary_indexes(cursor: Any, tables: list[str]) -> list[tuple[str, str]]:
    """(name, definition) of the indexes of `tables` that back no constraint (primary keys
    and unique constraints stay: appended to in order, and they guard the data)."""
    cursor.execute("""
        SELECT i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid
        WHERE t.relname = ANY(%s) AND t.relnamespace = 'public'::regnamespace
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
        ORDER BY i.relname""", [tables])
    return [(name, definition) for name, definition in cursor.fetchall()]


def _pick(array: str) -> str:
    """SQL: a random element of the bigint[] parameter `array`."""
    return (f"(%({array})s::bigint[])"
            f"[1 + floor(random() * cardinality(%({array})s::bigint[]))::int]")


# The random draws of each new ticket, once per row (materialised: an expression used
# twice must not draw twice).
TICKET_DRAWS = f"""
WITH g AS MATERIALIZED (
  SELECT n, rs, random() AS rp,
    CASE WHEN random() < 0.3 THEN NULL ELSE {_pick("agents")} END AS assignee,
    {_pick("services")} AS service,
    1 + floor(random() * cardinality(%(channels)s::bigint[]))::int AS ch,
    1 + floor(random() * %(contacts)s)::int AS ck,
    1 + floor(random() * %(subjects)s)::int AS sk,
    %(now)s::timestamptz - floor(random() * 86400 * CASE WHEN rs < 0.55 THEN %(open_days)s
                                                          ELSE 180 END)
                           * interval '1 second' AS upd,
    floor(random() * 10 * 86400) * interval '1 second' AS age
  FROM (SELECT n, random() AS rs FROM generate_series(%(first)s, %(last)s) n) s),
r AS (
  SELECT g.*, upd - age AS created,
    CASE WHEN rs < 0.15 THEN 'new' WHEN rs < 0.40 THEN 'open' WHEN rs < 0.55 THEN 'pending'
         WHEN rs < 0.85 THEN 'resolved' ELSE 'closed' END AS status,
    CASE WHEN rp < 0.20 THEN 'low' WHEN rp < 0.80 THEN 'normal' WHEN rp < 0.95 THEN 'high'
         ELSE 'urgent' END AS priority
  FROM g)
"""
TICKET_VALUES = {
    "organization_id": "%(org)s",
    # Numbered (and given ids) in order of creation, as a live system numbers them.
    "number": "%(first)s - 1 + row_number() OVER (ORDER BY r.created, r.n)",
    "subject": "s.text", "priority": "r.priority", "status": "r.status",
    "contact_id": "c.id", "assignee_id": "r.assignee", "service_id": "r.service",
    "channel_id": "(%(channels)s::bigint[])[r.ch]", "origin": "(%(kinds)s::text[])[r.ch]",
    "created_at": "r.created", "updated_at": "r.upd", "last_inbound_at": "r.upd",
    "resolved_at": "CASE WHEN r.status IN ('resolved', 'closed') THEN r.upd END",
    "closed_at": "CASE WHEN r.status = 'closed' THEN r.upd END",
}
TICKET_FROM = """
FROM r JOIN bench_contacts c ON c.k = r.ck JOIN bench_subjects s ON s.k = r.sk
ORDER BY r.created, r.n"""

# 1-40 messages per ticket, 1 + floor(exponential of mean 9) as before (~9.4 on average),
# alternately the customer's and an agent's, 7 minutes apart from the ticket's creation.
MESSAGE_DRAWS = f"""
WITH t AS MATERIALIZED (
  SELECT id, contact_id, channel_id, created_at,
    least(40, 1 + floor(-9 * ln(1 - random())))::int AS c
  FROM tickets_ticket
  WHERE organization_id = %(org)s AND number BETWEEN %(first)s AND %(last)s),
m AS MATERIALIZED (
  SELECT t.id AS ticket_id, t.contact_id, t.channel_id, i, mod(i, 2) = 0 AS inbound,
    t.created_at + i * interval '7 minutes' AS at,
    1 + floor(random() * %(texts)s)::int AS xk, {_pick("agents")} AS agent
  FROM t, generate_series(0, t.c - 1) i)
"""
MESSAGE_VALUES = {
    "organization_id": "%(org)s", "ticket_id": "m.ticket_id",
    "direction": "CASE WHEN m.inbound THEN 'inbound' ELSE 'outbound' END",
    "channel_id": "m.channel_id",
    "author_contact_id": "CASE WHEN m.inbound THEN m.contact_id END",
    "author_user_id": "CASE WHEN m.inbound THEN NULL ELSE m.agent END",
    "text": "x.text",
    "delivery_status": "CASE WHEN m.inbound THEN 'received' ELSE 'delivered' END",
    "created_at": "m.at",
}
# Written in time order, as a live system writes them: a ticket's messages are spread
# over the table, not side by side (the ticket screen reads them as it would in production).
MESSAGE_FROM = """
FROM m JOIN bench_texts x ON x.k = m.xk
ORDER BY m.at, m.ticket_id, m.i"""

# About 45% of the tickets carry a tag or two.
TAG_DRAWS = """
WITH t AS MATERIALIZED (
  SELECT id, random() AS r FROM tickets_ticket
  WHERE organization_id = %(org)s AND number BETWEEN %(first)s AND %(last)s),
k AS (SELECT id, CASE WHEN r < 0.55 THEN 0 WHEN r < 0.90 THEN 1 ELSE 2 END AS k FROM t)
"""


def load(state: dict[str, Any], upto: int, rng: random.Random, open_days: int = 180) -> float:
    """Add tickets (with contacts, tags and messages) until the organisation has `upto`.
    Returns the seconds it took; each phase's seconds go to state["phases"].

    `open_days`: the new, open and pending tickets were updated within that many days
    (the others within 180). 180: status and age are independent; fewer: the open tickets
    are the recent ones, at the end of the table, as in a desk that has run for a while."""
    from django.db import connection, transaction

    from atende.contacts.models import Contact
    from atende.tickets.models import Message, Ticket

    first, last = state["loaded"] + 1, upto
    state["phases"] = {}
    if last < first:
        return 0.0
    through = Ticket.tags.through
    tables = [Ticket._meta.db_table, Message._meta.db_table, Contact._meta.db_table,
              through._meta.db_table]
    params: dict[str, Any] = {
        "org": state["org"].pk, "first": first, "last": last, "now": datetime.now(UTC),
        "agents": state["agents"], "services": state["services"],
        "channels": [pk for pk, _kind in state["channels"]],
        "kinds": [kind for _pk, kind in state["channels"]], "tags": state["tags"],
        "subjects": SUBJECT_POOL, "texts": TEXT_POOL, "open_days": open_days,
    }
    started = time.perf_counter()
    mark = [started]

    def phase(name: str) -> None:
        now = time.perf_counter()
        state["phases"][name] = now - mark[0]
        print(f"  {name}: {now - mark[0]:.1f} s", flush=True)
        mark[0] = now

    with transaction.atomic(), connection.cursor() as cursor:
        # A bulk load's usual settings, for this transaction only. Replica mode skips the
        # deferred foreign-key triggers (five queued checks per message): every id written
        # below comes from rows that exist.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SELECT setseed(%s)", [rng.uniform(-1, 1)])
        rebuild = (last - first + 1) >= REBUILD_SHARE * state["loaded"]
        indexes = _secondary_indexes(cursor, tables) if rebuild else []
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        for table, size, words in (("bench_subjects", SUBJECT_POOL, (3, 8)),
                                   ("bench_texts", TEXT_POOL, (5, 40))):
            cursor.execute(f"CREATE TEMP TABLE {table} (k int PRIMARY KEY, text text) "
                           "ON COMMIT DROP")
            cursor.execute(f"INSERT INTO {table} SELECT k, t "
                           "FROM unnest(%s::text[]) WITH ORDINALITY AS u(t, k)",
                           [[_sentence(rng, rng.randint(*words)) for _ in range(size)]])
        phase(f"setup ({len(indexes)} secondary indexes dropped, text pools)")

        # One contact per three new tickets.
        cursor.execute("CREATE TEMP TABLE bench_contacts (k serial PRIMARY KEY, id bigint) "
                       "ON COMMIT DROP")
        insert = _insert_sql(Contact, {
            "organization_id": "%(org)s", "name": "'Cliente ' || n",
            "created_at": "%(now)s", "updated_at": "%(now)s"}, params)
        cursor.execute(f"WITH new AS ({insert} FROM generate_series(%(first)s, %(last)s, 3) n "
                       "RETURNING id) INSERT INTO bench_contacts (id) "
                       "SELECT id FROM new ORDER BY id", params)
        params["contacts"] = cursor.rowcount
        phase(f"contacts ({params['contacts']:,})")

        cursor.execute(TICKET_DRAWS + _insert_sql(Ticket, TICKET_VALUES, params) + TICKET_FROM,
                       params)
        phase(f"tickets ({cursor.rowcount:,})")

        cursor.execute(TAG_DRAWS + _insert_sql(through, {
            "ticket_id": "k.id", "tag_id": _pick("tags")}, params)
            + " FROM k, generate_series(1, k.k) ON CONFLICT DO NOTHING", params)
        phase(f"tags ({cursor.rowcount:,} ticket-tag rows)")

        cursor.execute(MESSAGE_DRAWS + _insert_sql(Message, MESSAGE_VALUES, params)
                       + MESSAGE_FROM, params)
        state["messages"] += cursor.rowcount
        phase(f"messages ({cursor.rowcount:,})")

        for _name, definition in indexes:
            cursor.execute(definition)
        if indexes:
            phase(f"{len(indexes)} indexes rebuilt")
        cursor.execute(f"SELECT setval('atende_ticket_number_{int(state['org'].pk)}', %s)",
                       [last])
    # Hint bits, the visibility map and statistics, as autovacuum leaves a live database
    # (and so that it does not start in the middle of the measurements).
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")
        cursor.execute("ANALYZE")
    phase("VACUUM ANALYZE")
    state["loaded"] = last
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


def _plan_summary(plan: str) -> str:
    """The plan's scans and sorts, one line: what says whether it is flat."""
    nodes = []
    for line in plan.splitlines():
        text = line.strip().lstrip("-> ").strip()
        if not text.startswith(("Index", "Seq Scan", "Bitmap", "Sort", "Incremental Sort",
                                "Hash Join", "Nested Loop", "Merge Join", "Limit", "Aggregate",
                                "HashAggregate")):
            continue
        name = text.split("  (")[0]
        actual = text.split("(actual ")[-1].split(")")[0] if "(actual " in text else ""
        rows = [p.split("=")[1] for p in actual.split() if p.startswith(("rows=", "loops="))]
        nodes.append(f"{name} [{'x'.join(rows)}]" if rows else name)
    return "; ".join(nodes)


def explain(state: dict[str, Any], out: Path | None) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) every SELECT of the queue (each sort and view; the
    administrator and a restricted agent) and of the ticket screen (the ticket with the
    most messages, and a random one)."""
    import re

    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from atende.tickets.models import Ticket

    admin = Client(HTTP_ACCEPT_LANGUAGE="pt-br")
    admin.force_login(state["admin"])
    agent = Client(HTTP_ACCEPT_LANGUAGE="pt-br")
    agent.force_login(state["restricted"])
    longest = (Ticket.objects.filter(organization=state["org"], number__gt=state["loaded"] - 5000)
               .annotate(n=Count("messages")).order_by("-n", "pk").values_list("pk", flat=True)[0])
    some = Ticket.objects.filter(organization=state["org"]).order_by("?").values_list(
        "pk", flat=True)[0]
    pages = [(f"admin {url}", admin, url) for url in (
        "/", "/?sort=waiting", "/?sort=priority", "/?sort=sla", "/?view=mine",
        "/?view=unassigned", "/?view=pending", "/?view=resolved", "/?page=20")]
    pages += [(f"restricted agent {url}", agent, url) for url in (
        "/", "/?sort=waiting", "/?sort=priority", "/?sort=sla", "/?view=unassigned")]
    pages += [(f"admin ticket screen ({what})", admin, f"/tickets/{pk}/")
              for what, pk in (("most messages", longest), ("random", some))]
    report = []
    for label, client, url in pages:
        client.get(url)  # warm
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200, url
        print(f"\n-- {label} ({len(captured.captured_queries)} queries)")
        for n, query in enumerate(captured.captured_queries, 1):
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            ms = float(re.search(r"Execution Time: ([0-9.]+)", plan).group(1))  # type: ignore[union-attr]
            buffers = re.search(r"Buffers: ([^\n]+)", plan)
            flag = " <-- SCAN" if re.search(
                r"Seq Scan on (tickets_ticket|tickets_message|contacts_contact)\b", plan) else ""
            print(f"  q{n:<2} {ms:8.3f} ms  {buffers.group(1) if buffers else ''}{flag}\n"
                  f"       {_plan_summary(plan)[:400]}")
            report.append(f"-- {label}, q{n}: {ms:.3f} ms\n{sql}\n{plan}\n")
    if out is not None:
        out.write_text("\n".join(report))
        print(f"\nplans written to {out}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--reuse", metavar="NAME",
                        help=f"a kept database ({DB_PREFIX}...): measure (and grow) it, never "
                             "drop it; created and loaded if it is not there")
    parser.add_argument("--explain", action="store_true",
                        help="EXPLAIN (ANALYZE, BUFFERS) the queue's and ticket screen's queries")
    parser.add_argument("--explain-out", type=Path, help="write the full plans there")
    parser.add_argument("--no-measure", action="store_true", help="load (and explain) only")
    parser.add_argument("--open-days", type=int, default=180,
                        help="new/open/pending tickets updated within this many days (default "
                             "180: like the others; e.g. 30 puts them at the end of the table)")
    opts = parser.parse_args()
    if opts.reuse and not opts.reuse.startswith(DB_PREFIX):
        parser.error(f"--reuse takes a bench database, named {DB_PREFIX}...")

    import psycopg

    db = opts.reuse or f"atende_bench_queue_{os.getpid()}"
    created = False
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone():
            conn.execute(f'CREATE DATABASE "{db}"')  # type: ignore[arg-type]
            created = True
    keep = opts.keep or bool(opts.reuse)
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
        from atende.tenancy.models import Organization

        rng = random.Random(opts.seed)
        org = Organization.objects.filter(slug__startswith="bench-").order_by("pk").first()
        state = setup_org() if org is None else org_state(org)
        if org is not None:
            print(f"reusing {db}: {state['loaded']:,} tickets, {state['messages']:,} messages")
        for size in (int(s) for s in opts.sizes.split(",")):
            if size < state["loaded"]:
                print(f"\n{size:,}: the database holds {state['loaded']:,} tickets already "
                      "(it only grows); measuring it as it is")
            load_avg = os.getloadavg()
            seconds = load(state, size, rng, opts.open_days)
            print(f"\n== {state['loaded']:,} tickets, {state['messages']:,} messages "
                  f"(loaded this step in {seconds:.0f} s, load average before "
                  f"{load_avg[0]:.1f}; now {os.getloadavg()[0]:.1f})")
            if not opts.no_measure:
                for label, figure in measure(state, opts.requests, rng):
                    print(f"  {label:32s} {figure}  (load {os.getloadavg()[0]:.1f})")
            if opts.explain:
                explain(state, opts.explain_out)
        return 0
    finally:
        from django.db import connections

        connections.close_all()
        if keep or not created:
            print(f"kept database {db}")
        else:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main())
