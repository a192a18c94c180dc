"""Idle expiry and the resolution template: the customer gets one closing notice — the idle
message while the 24-hour window is open, else the mapped resolution template."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from atende.channels.models import Channel
from atende.connectors.whatsapp.expiry import expire_idle_attendances
from atende.tickets.models import DeliveryStatus, Direction, Status, Ticket
from tests.connectors.whatsapp.conftest import CUSTOMER, Webhooks
from tests.fakes.dialog360 import FakeDialog360

pytestmark = pytest.mark.django_db


@pytest.fixture
def expiring(wa: FakeDialog360, wa_channel: Channel) -> Channel:
    wa.add_template("encerrado", "Seu chamado {{1}} foi encerrado.")
    wa_channel.settings = {**wa_channel.settings, "idle_expiry_minutes": 30,
                           "idle_message": "Encerramos por inatividade.",
                           "templates": {"resolution": {"name": "encerrado",
                                                        "language": "pt_BR",
                                                        "params": ["{protocol}"]}}}
    wa_channel.save()
    return wa_channel


def sent_kinds(wa: FakeDialog360) -> list[str]:
    return [b["text"]["body"] if b["type"] == "text" else b["template"]["name"]
            for b in wa.sent]


def test_inside_the_window_only_the_idle_message_goes(
        wa: FakeDialog360, expiring: Channel, webhooks: Webhooks,
        django_capture_on_commit_callbacks: Any) -> None:
    wa.customer_sends(CUSTOMER, "Oi")
    webhooks.flush()
    with django_capture_on_commit_callbacks(execute=True):
        assert expire_idle_attendances(timezone.now() + timedelta(minutes=31)) == 1
    assert sent_kinds(wa) == ["Encerramos por inatividade."]
    assert Ticket.objects.get().status == Status.RESOLVED


def test_after_the_window_the_resolution_template_goes_instead(
        wa: FakeDialog360, expiring: Channel, webhooks: Webhooks,
        django_capture_on_commit_callbacks: Any) -> None:
    wa.customer_sends(CUSTOMER, "Oi", at=time.time() - 25 * 3600)
    webhooks.flush()
    with django_capture_on_commit_callbacks(execute=True):
        assert expire_idle_attendances(timezone.now() + timedelta(minutes=31)) == 1
    ticket = Ticket.objects.get()
    assert sent_kinds(wa) == ["encerrado"]
    assert ticket.status == Status.RESOLVED
    # No free-text goodbye queued to fail on the closed window.
    assert not ticket.messages.filter(direction=Direction.OUTBOUND,
                                      delivery_status=DeliveryStatus.FAILED).exists()
    assert ticket.messages.filter(direction=Direction.SYSTEM).count() == 1
