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
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(%s)", [_sequence_name(organization_id)])
        else:
            cursor.execute(
                "UPDATE tenancy_organization SET last_ticket_number = last_ticket_number + 1 "
                "WHERE id = %s RETURNING last_ticket_number",
                [organization_id],
            )
        row = cursor.fetchone()
        return int(row[0])
