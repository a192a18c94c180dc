"""The queue page's own cost with a full page of rows: 50 tickets (tags, assignees, services,
a last message each) on a throwaway embedded-profile (SQLite) database, then p50/p95 of
`GET /` over N requests through Django's test client, as a signed-in administrator.

    .venv/bin/python bench/queue_render.py                   # 200 requests
    .venv/bin/python bench/queue_render.py --profile         # and a pyinstrument profile

Small on purpose: it isolates rendering (the query count is fixed, see
tests/workspace/test_queue.py); bench/screens_at_scale.py measures the page against large tables.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--dump", help="write the page's HTML here (to compare versions)")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    os.environ["ATENDE_DATA_DIR"] = tempfile.mkdtemp(prefix="atende-queue-render-")
    os.environ["ATENDE_TASKS_IMMEDIATE"] = "1"
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atende.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from atende.contacts.models import IdentityKind
    from atende.contacts.services import find_or_create_contact
    from atende.tenancy.models import Membership, Organization, Role, Service, User
    from atende.tickets.services.actor import Actor
    from atende.tickets.services.changes import update_ticket
    from atende.tickets.services.create import open_ticket

    call_command("migrate", verbosity=0)
    org = Organization.objects.create(name="Bench", slug="bench")
    admin = User.objects.create_user("admin@bench.test", "pw-not-used-123", name="Admin")
    Membership.objects.create(organization=org, user=admin, role=Role.ADMIN)
    agent = User.objects.create_user("carla@bench.test", None, name="Carla")
    Membership.objects.create(organization=org, user=agent, role=Role.AGENT)
    service = Service.objects.create(organization=org, name="Suporte")
    actor = Actor(label="bench")
    for n in range(args.rows):
        contact = find_or_create_contact(org, IdentityKind.EMAIL, f"c{n}@example.com",
                                         f"Cliente {n}")
        ticket, _msg = open_ticket(
            organization=org, contact=contact, subject=f"Pedido {n} atrasado",
            description="Meu pedido não chegou e o prazo já passou. " * 4, actor=actor,
            origin=("api", "email", "whatsapp")[n % 3], service=service, tags=["vip", "frete"])
        update_ticket(ticket, actor, assignee=agent if n % 2 else admin)

    client = Client(HTTP_ACCEPT_LANGUAGE="pt-br")
    client.force_login(admin)
    for _ in range(5):
        assert client.get("/").status_code == 200
    if args.dump:
        Path(args.dump).write_bytes(client.get("/").content)
    if args.profile:
        from pyinstrument import Profiler

        with Profiler(interval=0.0005) as profiler:
            for _ in range(50):
                client.get("/")
        print(profiler.output_text(unicode=True, color=False,
                                   show_all=os.environ.get("BENCH_PROFILE_ALL") == "1"))
    # CPU time beside wall time: on a shared machine it is the steadier figure.
    times, cpu = [], []
    for _ in range(args.requests):
        start, start_cpu = time.perf_counter(), time.process_time()
        client.get("/")
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"queue / with {args.rows} rows, {args.requests} requests: "
          f"p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, "
          f"CPU p50 {statistics.median(cpu):.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
