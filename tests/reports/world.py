"""Random ticket histories written straight as stored rows (tickets, status changes,
answers), and the figures computed directly from those rows, without the roll-ups."""

from __future__ import annotations

import math
import random
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from atende.channels.models import Channel, ChannelKind
from atende.contacts.models import IdentityKind
from atende.contacts.services import find_or_create_contact
from atende.reports import histogram
from atende.tenancy.models import Membership, Organization, Role, Service, User
from atende.tickets.models import AuditEntry, Direction, FinalizationTag, Message, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.create import open_ticket

UNRESOLVED = {"new", "open", "pending"}
SOLVED = {"resolved", "closed"}


@dataclass
class World:
    org: Organization
    channels: list[Channel]
    services: list[Service]
    agents: list[User]
    tags: list[FinalizationTag]
    today: date

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.org.timezone)

    def day_of(self, moment: datetime) -> date:
        return timezone.localtime(moment, self.zone).date()


def make_world(org: Organization, rng: random.Random) -> World:
    channels = [Channel.objects.create(organization=org, kind=ChannelKind.API, name=f"Canal {n}")
                for n in range(2)]
    services = [Service.objects.get_or_create(organization=org, name=f"Serviço {n}")[0]
                for n in range(2)]
    agents = []
    for n in range(3):
        user = User.objects.create_user(f"agent{n}-{org.slug}@test.example", None,
                                        name=f"Agente {n}")
        Membership.objects.create(organization=org, user=user, role=Role.AGENT)
        agents.append(user)
    tags = [FinalizationTag.objects.create(organization=org, name=f"Tag {n}") for n in range(2)]
    return World(org, channels, services, agents, tags, timezone.localdate(timezone=
                                                                           zoneinfo.ZoneInfo(org.timezone)))


def random_ticket(world: World, rng: random.Random, n: int, steps: int | None = None) -> Ticket:
    """A ticket created some days ago, with a random life of answers and status changes
    written as rows. Rows are inserted in a shuffled order (late deliveries)."""
    now = timezone.now()
    created = now - timedelta(days=rng.uniform(0.5, 25), minutes=rng.uniform(0, 600))
    contact = find_or_create_contact(world.org, IdentityKind.EMAIL, f"c{n}@example.com", "C")
    ticket, _message = open_ticket(
        organization=world.org, contact=contact, subject=f"T{n}", actor=Actor(label="t"),
        origin="api", channel=rng.choice([*world.channels, None]),
        service=rng.choice([*world.services, None]), category=rng.choice(["", "boleto", "entrega"]),
        created_at=created)
    AuditEntry.objects.filter(ticket=ticket).delete()  # the life below is the whole story
    moments = sorted(created + timedelta(minutes=rng.uniform(1, 60 * 24 * 6))
                     for _ in range(steps if steps is not None else rng.randint(0, 7)))
    moments = [m for m in moments if m < now]
    status, events = "new", []
    first_response = None
    assignee = rng.choice([*world.agents, None])
    for when in moments:
        if rng.random() < 0.4:
            author = rng.choice(world.agents)
            events.append(("answer", when, author))
            first_response = first_response or when
            if status == "new":
                events.append(("status", when, ("new", "open")))
                status = "open"
        else:
            choices = {"new": ["open", "pending", "resolved"], "open": ["pending", "resolved",
                       "closed"], "pending": ["open", "resolved"], "resolved": ["open", "closed"],
                       "closed": ["open"]}[status]
            after = rng.choice(choices)
            events.append(("status", when, (status, after)))
            status = after
    rng.shuffle(events)
    for kind, when, detail in events:
        if kind == "answer":
            Message.objects.create(organization=world.org, ticket=ticket,
                                   direction=Direction.OUTBOUND, author_user=detail, text="ok",
                                   created_at=when, delivery_status="sent")
        else:
            AuditEntry.objects.create(organization=world.org, ticket=ticket, action="x",
                                      field="status", before=detail[0], after=detail[1],
                                      created_at=when)
    last_solved = max((w for k, w, d in events if k == "status" and d[1] in SOLVED
                       and d[0] in UNRESOLVED), default=None)
    Ticket.objects.filter(pk=ticket.pk).update(
        status=status, assignee=assignee, first_response_at=first_response,
        resolved_at=last_solved if status in SOLVED else None,
        finalization_tag=rng.choice([*world.tags, None]))
    ticket.refresh_from_db()
    return ticket


def _changes(ticket: Ticket) -> list[tuple[datetime, str, str]]:
    return [(a.created_at, a.before, a.after) for a in
            AuditEntry.objects.filter(ticket=ticket, field="status").order_by("created_at", "id")]


def direct_days(world: World, start: date, end: date) -> list[list[Any]]:
    """[day, opened, resolved, backlog at the end of the day] from the rows."""
    tickets = list(Ticket.objects.filter(organization=world.org))
    histories = {t.pk: _changes(t) for t in tickets}
    rows = []
    day = start
    while day <= end:
        end_of_day = datetime.combine(day + timedelta(days=1), time.min, world.zone)
        opened = sum(1 for t in tickets if world.day_of(t.created_at) == day)
        resolved = sum(1 for t in tickets for when, before, after in histories[t.pk]
                       if world.day_of(when) == day and before in UNRESOLVED and after in SOLVED)
        backlog = 0
        for t in tickets:
            if t.created_at >= end_of_day:
                continue
            past = [c for c in histories[t.pk] if c[0] < end_of_day]
            state = past[-1][2] if past else (histories[t.pk][0][1] if histories[t.pk]
                                              else t.status)
            backlog += state in UNRESOLVED
        rows.append([day, opened, resolved, backlog])
        day += timedelta(days=1)
    return rows


def nearest_rank(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return histogram.representative(histogram.bucket(
        ordered[max(1, math.ceil(fraction * len(ordered))) - 1]))


def direct_first_response(world: World, start: date, end: date, channel: Channel | None
                          ) -> list[float]:
    return [(t.first_response_at - t.created_at).total_seconds()
            for t in Ticket.objects.filter(organization=world.org, channel=channel,
                                           first_response_at__isnull=False)
            if start <= world.day_of(t.first_response_at) <= end]


def direct_messages(world: World, start: date, end: date) -> dict[int, int]:
    counts: dict[int, int] = {}
    for m in Message.objects.filter(organization=world.org, direction=Direction.OUTBOUND,
                                    author_user__isnull=False):
        if start <= world.day_of(m.created_at) <= end:
            counts[m.author_user_id] = counts.get(m.author_user_id, 0) + 1
    return counts
