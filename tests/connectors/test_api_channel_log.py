"""An API channel's quarantined event, processed again from the channel log."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client

from atende.channels.models import InboundEvent, InboundStatus
from atende.tickets.models import Message
from atende.tickets.services import ingest_batch
from tests.connectors.conftest import ApiChannel

pytestmark = pytest.mark.django_db


def test_quarantined_api_event_is_processed_again(api_channel: ApiChannel, admin_client: Client,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    real = ingest_batch.contacts_by_identity

    def locked(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("database is locked")

    monkeypatch.setattr(ingest_batch, "contacts_by_identity", locked)
    assert api_channel.post(message_id="m-9", text="Pedido 9").status_code == 500
    event = InboundEvent.objects.get(channel=api_channel.channel)
    assert event.status == InboundStatus.QUARANTINED
    monkeypatch.setattr(ingest_batch, "contacts_by_identity", real)
    url = f"/settings/channels/{api_channel.channel.pk}/log/{event.pk}/reprocess/"
    assert admin_client.post(url).status_code == 302
    event.refresh_from_db()
    assert event.status == InboundStatus.PROCESSED
    assert event.message is not None and event.message.text == "Pedido 9"
    admin_client.post(url)
    assert Message.objects.filter(channel=api_channel.channel).count() == 1
