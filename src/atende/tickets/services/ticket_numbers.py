"""Per-tenant ticket numbers (the "TKT-000123" protocol).

PostgreSQL: one SEQUENCE per organisation, so concurrent ticket creation never waits on a
row lock (a rolled-back transaction leaves a gap, as sequences do). SQLite: a counter on the
organisation row; SQLite serialises writers anyway.
"""

from django.db import connection
from django.db.models.signals import post_save
from django.dispatch import receiver

from atende.tenancy.models import Organization


def _sequence_name(organization_id: int) -> str:
    return f"atende_ticket_number_{int(organization_id)}"


def create_sequence(organization_id: int, start: int = 1) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE SEQUENCE IF NOT EXISTS {_sequence_name(organization_id)} START {int(start)}"
        )


@receiver(post_save, sender=Organization, dispatch_uid="atende-ticket-sequence")
def _organization_created(sender: type, instance: Organization, created: bool, **_: object) -> None:
    if created:
        create_sequence(instance.pk)


def ensure_sequences(**_: object) -> None:
    """Create missing sequences (organisations restored from a dump); run after migrate."""
    if connection.vendor != "postgresql":
        return
    from django.db.models import Max

    from atende.tickets.models import Ticket

    last = dict(Ticket.objects.values_list("organization_id").annotate(Max("number")))
    for org_id in Organization.objects.values_list("pk", flat=True):
        create_sequence(org_id, start=int(last.get(org_id) or 0) + 1)


def allocate_number(organization_id: int) -> int:
    return allocate_numbers(organization_id, 1)[0]


def allocate_numbers(organization_id: int, count: int) -> list[int]:
    """`count` new numbers in ascending order, in one statement (batched ingest)."""
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if count == 1:
                cursor.execute("SELECT nextval(%s)", [_sequence_name(organization_id)])
            else:
                cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)",
                               [_sequence_name(organization_id), int(count)])
            return sorted(int(row[0]) for row in cursor.fetchall())
        cursor.execute(
            "UPDATE tenancy_organization SET last_ticket_number = last_ticket_number + %s "
            "WHERE id = %s RETURNING last_ticket_number",
            [int(count), organization_id],
        )
        last = int(cursor.fetchone()[0])
        return list(range(last - count + 1, last + 1))


def last_number(organization_id: int) -> int:
    """The last number allocated so far (committed or not), allocating none: the next ones
    are above it."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sequence = _sequence_name(organization_id)  # built from an int
            cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608
            last, called = cursor.fetchone()
            return int(last) if called else int(last) - 1
        cursor.execute("SELECT last_ticket_number FROM tenancy_organization WHERE id = %s",
                       [organization_id])
        return int(cursor.fetchone()[0])
