"""The ticket screen: header, consolidated timeline, tenancy, attachments, query count."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from atende.contacts.services import add_identity
from atende.tickets.models import CustomField, Direction, Message
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import update_ticket
from atende.tickets.services.replies import NewAttachment, post_message

pytestmark = pytest.mark.django_db

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")


def test_header_shows_protocol_contact_identities_channel_and_fields(
    tenant: Any, admin_client: Client, make_ticket: Any
) -> None:
    CustomField.objects.create(organization=tenant.org, key="order", label="Order number")
    ticket = make_ticket(tenant.org, "Broken phone", name="Ana Souza", email="ana@example.com",
                         origin="email", tags=["vip"], service=tenant.service,
                         custom_fields={"order": "A-77"})
    add_identity(ticket.contact, "phone", "+5511987654321")
    page = admin_client.get(f"/tickets/{ticket.pk}/").content.decode()
    for expected in (ticket.protocol, "Broken phone", "Ana Souza", "ana@example.com",
                     "+5511987654321", "E-mail", "Suporte", "vip", "Order number", "A-77",
                     "New", "Normal", "Unassigned"):
        assert expected in page, expected


def test_timeline_has_every_entry_with_channel_and_delivery_status_and_distinct_notes(
    tenant: Any, admin_client: Client, make_ticket: Any
) -> None:
    ticket = make_ticket(tenant.org, "Timeline", "First inbound words")
    actor = Actor(user=tenant.admin)
    post_message(ticket, actor, text="Our public answer")
    post_message(ticket, actor, text="Only for colleagues", internal=True)
    update_ticket(ticket, actor, priority="high")
    page = admin_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert page.index("First inbound words") < page.index("Our public answer") \
        < page.index("Only for colleagues")
    assert 'class="entry entry-note"' in page and 'class="entry entry-outbound"' in page
    assert 'class="delivery delivery-sent"' in page  # no channel: published, counts as sent
    assert 'class="delivery delivery-received"' in page
    assert "changed the priority from Normal to High" in page
    assert "wrote an internal note" in page


def test_another_organisations_ticket_is_404(tenant: Any, other_tenant: Any,
                                             admin_client: Client, make_ticket: Any) -> None:
    foreign = make_ticket(other_tenant.org, "Globex only")
    assert admin_client.get(f"/tickets/{foreign.pk}/").status_code == 404
    assert admin_client.get(f"/tickets/{foreign.pk}/live/").status_code == 404
    assert admin_client.post(f"/tickets/{foreign.pk}/reply/", {"text": "hi"}).status_code == 404
    assert admin_client.post(f"/tickets/{foreign.pk}/change/",
                             {"status": "closed"}).status_code == 404
    assert admin_client.post(f"/tickets/{foreign.pk}/presence/").status_code == 404
    assert not Message.objects.filter(ticket=foreign, direction=Direction.OUTBOUND).exists()


def test_attachments_download_and_images_preview_only_in_their_organisation(
    tenant: Any, other_tenant: Any, admin_client: Client, make_ticket: Any
) -> None:
    ticket = make_ticket(tenant.org, "Files")
    message = post_message(ticket, Actor(user=tenant.admin), text="see files", attachments=[
        NewAttachment("shot.png", "image/png", PNG),
        NewAttachment("evil.svg", "image/svg+xml", b"<svg onload=alert(1)></svg>")])
    png, svg = message.attachments.order_by("filename").reverse()
    page = admin_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert f'<img src="/attachments/{png.pk}/?inline=1"' in page
    assert f'src="/attachments/{svg.pk}/' not in page

    inline = admin_client.get(f"/attachments/{png.pk}/?inline=1")
    assert inline["Content-Type"] == "image/png"
    assert b"".join(inline.streaming_content) == PNG
    download = admin_client.get(f"/attachments/{svg.pk}/?inline=1")
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"].startswith("attachment")

    stranger = Client()
    stranger.force_login(other_tenant.admin)
    assert stranger.get(f"/attachments/{png.pk}/").status_code == 404
    assert Client().get(f"/attachments/{png.pk}/").status_code == 302


def test_earlier_tickets_of_the_contact(tenant: Any, admin_client: Client,
                                        make_ticket: Any) -> None:
    old = make_ticket(tenant.org, "Last year's problem", email="same@example.com")
    new = make_ticket(tenant.org, "Today", email="same@example.com")
    page = admin_client.get(f"/tickets/{new.pk}/").content.decode()
    assert old.protocol in page and "Last year&#x27;s problem" in page


@pytest.mark.parametrize("entries", [3, 30])
def test_ticket_screen_query_count_is_constant(
    entries: int, tenant: Any, admin_client: Client, make_ticket: Any,
    django_assert_max_num_queries: Any,
) -> None:
    ticket = make_ticket(tenant.org, "Busy", tags=["a", "b"])
    actor = Actor(user=tenant.admin)
    for n in range(entries):
        post_message(ticket, actor, text=f"answer {n}", internal=n % 2 == 0,
                     attachments=[NewAttachment(f"f{n}.txt", "text/plain", b"x")])
        make_ticket(tenant.org, f"earlier {n}", email="c1@example.com")
    # The tracking tab's audit entries also serve the timeline's first page (one read);
    # the managed categories are one read for the category picker.
    with django_assert_max_num_queries(16):
        response = admin_client.get(f"/tickets/{ticket.pk}/")
    assert response.content.decode().count('class="entry entry-') >= entries
    with django_assert_max_num_queries(13):
        live = admin_client.get(f"/tickets/{ticket.pk}/live/")
    assert live.content.decode().lstrip().startswith('<div id="ticket-live">')


def test_times_are_shown_in_the_organisations_time_zone(tenant: Any, admin_client: Client,
                                                        make_ticket: Any) -> None:
    import datetime as dt

    ticket = make_ticket(tenant.org, "Zone")
    when = dt.datetime(2026, 1, 5, 15, 0, tzinfo=dt.UTC)
    Message.objects.filter(ticket=ticket).update(created_at=when)
    tenant.org.timezone = "Asia/Tokyo"
    tenant.org.save()
    assert 'datetime="2026-01-06T00:00:00+09:00"' in admin_client.get(
        f"/tickets/{ticket.pk}/").content.decode()
    tenant.org.timezone = "Not/AZone"
    tenant.org.save()
    assert admin_client.get(f"/tickets/{ticket.pk}/").status_code == 200


def test_a_long_timeline_opens_on_its_newest_page_and_loads_older_ones(
    tenant: Any, admin_client: Client, make_ticket: Any, django_assert_max_num_queries: Any,
) -> None:
    from datetime import timedelta

    from atende.tickets.selectors import TIMELINE_PAGE

    ticket = make_ticket(tenant.org, "Chatty", "message 0")
    first = ticket.messages.get()
    # Many messages, several sharing one instant: the keyset must order ties by id.
    total = TIMELINE_PAGE * 2 + 10
    Message.objects.bulk_create([
        Message(organization=tenant.org, ticket=ticket, direction=Direction.INBOUND,
                text=f"message {n}", created_at=first.created_at + timedelta(seconds=n // 3))
        for n in range(1, total)])

    def shown(html: str) -> list[int]:
        return [int(n) for n in re.findall(r"message (\d+)<", html)]

    with django_assert_max_num_queries(16):
        page = admin_client.get(f"/tickets/{ticket.pk}/").content.decode()
    numbers = shown(page)
    assert numbers == list(range(total - TIMELINE_PAGE, total))
    older_urls = re.findall(r'hx-get="(/tickets/\d+/timeline/\?before=[^"]+)"', page)
    assert len(older_urls) == 1 and "Show older messages" in page

    seen = numbers
    url = older_urls[0]
    while url:
        with django_assert_max_num_queries(12):
            chunk = admin_client.get(url).content.decode()
        seen = shown(chunk) + seen
        found = re.findall(r'hx-get="(/tickets/\d+/timeline/\?before=[^"]+)"', chunk)
        url = found[0] if found else ""
    # Every message exactly once, in order, and the opening audit entries too.
    assert seen == list(range(total))

    # The live refresh from the oldest loaded entry keeps them all, with no "older" left.
    oldest = re.findall(r'data-key="([^"]+)"', chunk)[0]
    live = admin_client.get(f"/tickets/{ticket.pk}/live/", {"from": oldest}).content.decode()
    assert shown(live) == list(range(total)) and "Show older messages" not in live
    live = admin_client.get(f"/tickets/{ticket.pk}/live/").content.decode()
    assert len(shown(live)) == TIMELINE_PAGE and "Show older messages" in live


def test_a_bad_timeline_cursor_is_not_an_error(tenant: Any, admin_client: Client,
                                               make_ticket: Any, other_tenant: Any) -> None:
    ticket = make_ticket(tenant.org)
    assert admin_client.get(f"/tickets/{ticket.pk}/timeline/?before=%%%").status_code == 404
    assert admin_client.get(f"/tickets/{ticket.pk}/timeline/").status_code == 404
    assert admin_client.get(f"/tickets/{ticket.pk}/live/?from=garbage").status_code == 200
    stranger = Client()
    stranger.force_login(other_tenant.admin)
    key = re.findall(r'data-key="([^"]+)"',
                     admin_client.get(f"/tickets/{ticket.pk}/").content.decode())[0]
    assert stranger.get(f"/tickets/{ticket.pk}/timeline/?before={key}").status_code == 404


def test_the_first_timeline_page_is_the_same_from_the_tracking_tabs_audit_rows(
    tenant: Any, make_ticket: Any,
) -> None:
    """The screen hands the tracking tab's newest audit entries to the timeline instead of
    reading them twice: the page must be exactly the one read on its own."""
    from datetime import timedelta

    from atende.tickets.models import AuditEntry
    from atende.tickets.selectors import TIMELINE_PAGE, TimelineKey, timeline_page

    ticket = make_ticket(tenant.org, "Much changed", "message 0")
    start = ticket.created_at
    AuditEntry.objects.bulk_create([
        AuditEntry(organization=tenant.org, ticket=ticket, action="changed", field="priority",
                   before="low", after="high", created_at=start + timedelta(seconds=n // 2))
        for n in range(TIMELINE_PAGE + 20)])
    Message.objects.bulk_create([
        Message(organization=tenant.org, ticket=ticket, direction=Direction.INBOUND,
                text=f"message {n}", created_at=start + timedelta(seconds=n))
        for n in range(1, 30)])
    tracking = list(AuditEntry.objects.filter(ticket=ticket).select_related("actor_user")
                    .order_by("-created_at", "-id")[:201])

    alone, older_alone = timeline_page(ticket)
    shared, older_shared = timeline_page(ticket, newest_audit=tracking)
    assert [TimelineKey.of(i) for i in shared] == [TimelineKey.of(i) for i in alone]
    assert older_shared == older_alone is True
    assert sum(isinstance(i, AuditEntry) for i in shared) > 0
