"""Webhook fixtures: a real HTTP receiver on 127.0.0.1 and helpers to subscribe to it and to
make a delivery due without waiting for its backoff."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from atende.webhooks.models import WebhookDelivery
from tests.conftest import ApiClient
from tests.fakes.http_receiver import HttpReceiver

NEW_TICKET = {"title": "Impressora em chamas", "description": "Socorro",
              "requester_email": "ana@example.com", "requester_name": "Ana"}


@pytest.fixture(autouse=True)
def _tasks_run_immediately() -> None:
    """These tests drive deliveries through on-commit callbacks and immediate tasks."""
    from atende.webhooks.services import tasks_run_immediately

    assert tasks_run_immediately(), "run the tests with ATENDE_TASKS_IMMEDIATE=1"


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as server:
        yield server


def subscribe(api: ApiClient, url: str, events: list[str]) -> dict[str, Any]:
    response = api.post("/api/v1/webhooks", {"url": url, "events": events})
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def open_ticket(api: ApiClient, **overrides: Any) -> dict[str, Any]:
    response = api.post("/api/v1/tickets", {**NEW_TICKET, **overrides})
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def make_due(delivery: WebhookDelivery) -> None:
    """Skip the backoff wait: the next attempt is due now."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1))

