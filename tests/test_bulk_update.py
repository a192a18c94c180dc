"""`atende.bulk_update`: the values Django's `bulk_update` would write, in one statement."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from atende.bulk_update import bulk_update
from atende.connectors.models import Channel, ChannelKind, InboundEvent, InboundStatus
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


def test_each_row_gets_its_own_values_and_other_rows_and_fields_are_untouched(
        tenant: Tenant) -> None:
    channel = Channel.objects.create(organization=tenant.org, kind=ChannelKind.WHATSAPP,
                                     name="WhatsApp")
    events = [InboundEvent.objects.create(organization=tenant.org, channel=channel,
                                          provider_id=f"e{n}", payload={"n": n})
              for n in range(4)]
    at = datetime(2026, 11, 22, 13, 45, 1, 123456, tzinfo=UTC)
    first, second, third, untouched = events
    first.status, first.error, first.processed_at = InboundStatus.PROCESSED, "", at
    second.status, second.error, second.processed_at = (
        InboundStatus.QUARANTINED, "ValidationError: número 'impossível' \\ \"12\"", None)
    third.status, third.error, third.processed_at = InboundStatus.DUPLICATE, "{1,2}", at
    third.provider_id = "not written"
    assert bulk_update([first, second, third], ["status", "error", "processed_at"]) == 3

    rows = {e.pk: (e.status, e.error, e.processed_at, e.provider_id, e.payload)
            for e in InboundEvent.objects.all()}
    assert rows == {
        first.pk: ("processed", "", at, "e0", {"n": 0}),
        second.pk: ("quarantined", "ValidationError: número 'impossível' \\ \"12\"", None,
                    "e1", {"n": 1}),
        third.pk: ("duplicate", "{1,2}", at, "e2", {"n": 2}),
        untouched.pk: ("received", "", None, "e3", {"n": 3}),
    }
    assert bulk_update([], ["status"]) == 0
    first.payload = {"changed": True}  # JSON goes through Django's bulk_update
    bulk_update([first], ["payload"])
    assert InboundEvent.objects.get(pk=first.pk).payload == {"changed": True}
