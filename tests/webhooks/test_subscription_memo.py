"""Webhook subscriptions are read once per transaction, and never served stale: a
subscription made elsewhere gets the very next event of a later transaction."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from atende.events import emit
from atende.webhooks.models import WebhookDelivery, WebhookSubscription
from atende.webhooks.services import create_subscription
from tests.conftest import Tenant

URL = "https://hooks.example.com/in"


def subscription_reads(queries: CaptureQueriesContext) -> int:
    return sum('FROM "webhooks_webhooksubscription"' in q["sql"] for q in queries)


def subscribe_from_another_connection(organization_id: int) -> None:
    """What the web process does when an admin subscribes: its own connection, its own
    process-local state (signals run there, not here)."""
    failure: list[BaseException] = []

    def work() -> None:
        try:
            create_subscription(organization_id, URL, ["ticket.created"])
        except BaseException as exc:  # reported below
            failure.append(exc)
        finally:
            from django.db import connections

            connections.close_all()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert not failure, failure


@pytest.mark.django_db
def test_one_read_for_all_events_of_a_transaction(tenant: Tenant) -> None:
    create_subscription(tenant.org.pk, URL, ["ticket.created", "message.created"])
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        emit(tenant.org.pk, "ticket.created", {"id": 1})
        emit(tenant.org.pk, "message.created", {"id": 2})
        emit(tenant.org.pk, "ticket.updated", {"id": 1})  # not subscribed
    assert subscription_reads(queries) == 1
    assert sorted(WebhookDelivery.objects.values_list("event_type", flat=True)) == [
        "message.created", "ticket.created"]


@pytest.mark.django_db
def test_a_change_in_this_process_is_seen_inside_the_same_transaction(
        tenant: Tenant) -> None:
    with transaction.atomic():
        emit(tenant.org.pk, "ticket.created", {"id": 1})
        sub, _secret = create_subscription(tenant.org.pk, URL, ["ticket.created"])
        emit(tenant.org.pk, "ticket.created", {"id": 2})
        sub.is_active = False
        sub.save(update_fields=["is_active"])
        emit(tenant.org.pk, "ticket.created", {"id": 3})
    assert [d.payload["id"] for d in WebhookDelivery.objects.all()] == [2]


@pytest.mark.django_db
def test_other_tenants_subscriptions_are_not_shared(tenant: Tenant, other_tenant: Tenant) -> None:
    create_subscription(other_tenant.org.pk, URL, ["ticket.created"])
    with transaction.atomic():
        emit(other_tenant.org.pk, "ticket.created", {"id": 1})
        emit(tenant.org.pk, "ticket.created", {"id": 2})
    assert [(d.organization_id, d.payload["id"]) for d in WebhookDelivery.objects.all()] == [
        (other_tenant.org.pk, 1)]


@pytest.mark.parametrize("first_transaction_ends", ["commit", "rollback"])
@pytest.mark.django_db(transaction=True)
def test_a_subscription_made_by_another_process_gets_the_very_next_event(
        tenant: Tenant, first_transaction_ends: str) -> None:
    try:
        with transaction.atomic():
            emit(tenant.org.pk, "ticket.created", {"id": 1})  # no subscription yet
            if first_transaction_ends == "rollback":
                raise RuntimeError
    except RuntimeError:
        pass
    assert not WebhookDelivery.objects.exists()

    subscribe_from_another_connection(tenant.org.pk)

    with transaction.atomic():
        emit(tenant.org.pk, "ticket.created", {"id": 2})
    [delivery] = WebhookDelivery.objects.all()
    assert delivery.payload == {"id": 2}
    assert delivery.subscription == WebhookSubscription.objects.get()
