"""An Instagram (or Messenger) channel created on the settings screen and connected with
Facebook Login against the fake Graph API, and a way to deliver the fake's webhooks into
the app through Django."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from django.test import Client
from django.urls import reverse

from atende.channels.models import Channel
from tests.conftest import Tenant
from tests.fakes.meta_graph import FakeMetaGraph


@pytest.fixture(autouse=True)
def _english(tenant: Tenant) -> None:
    """The organisation's language is what the connector writes in (the texts asserted)."""
    tenant.org.language = "en"
    tenant.org.save(update_fields=["language"])


@pytest.fixture
def graph(settings: Any) -> Iterator[FakeMetaGraph]:
    with FakeMetaGraph() as fake:
        settings.META_GRAPH_URL = fake.graph_url
        settings.META_DIALOG_URL = fake.dialog_url
        fake.profiles["IGSID900001"] = {"name": "Maria Souza", "username": "maria.souza"}
        yield fake


def create(client: Client, tenant: Tenant, fake: FakeMetaGraph, kind: str = "instagram",
           **overrides: Any) -> Channel:
    data = {"name": f"{kind} Loja", "app_id": fake.app_id, "app_secret": fake.app_secret,
            "service": tenant.service.pk, **overrides}
    answer = client.post(reverse("workspace:settings:channel_create", args=[kind]), data)
    assert answer.status_code == 302, answer.content.decode()[:3000]
    return Channel.objects.filter(organization=tenant.org, kind=kind).latest("pk")


def consent(client: Client, channel: Channel) -> Any:
    """Click "Connect with Facebook", let the fake's dialog answer, follow its redirect
    back to the callback; returns the callback's answer."""
    answer = client.post(reverse("workspace:settings:channel_meta_connect", args=[channel.pk]))
    assert answer.status_code == 302
    dialog = httpx.get(answer["Location"], follow_redirects=False)
    assert dialog.status_code == 302, dialog.text
    back = urlsplit(dialog.headers["location"])
    return client.get(f"{back.path}?{back.query}")


def connect(client: Client, tenant: Tenant, fake: FakeMetaGraph,
            kind: str = "instagram") -> Channel:
    channel = create(client, tenant, fake, kind)
    answer = consent(client, channel)
    assert answer.status_code == 302
    channel.refresh_from_db()
    assert channel.secrets.get("page_token") == fake.page_token
    return channel


@pytest.fixture
def ig_channel(admin_client: Client, tenant: Tenant, graph: FakeMetaGraph) -> Channel:
    return connect(admin_client, tenant, graph)


class Deliveries:
    """Posts the fake's queued webhooks into the app (Django's test client), signed with
    the app secret unless told otherwise, the on-commit callbacks run (the drain task)."""

    def __init__(self, fake: FakeMetaGraph, capture: Any) -> None:
        self.fake, self.capture = fake, capture

    def post(self, channel: Channel, body: Any, *, signature: str | None = None) -> Any:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent = self.fake.sign(raw) if signature is None else signature
        headers = {"X-Hub-Signature-256": sent} if sent else {}
        with self.capture(execute=True):
            return Client(headers=headers).post(
                f"/{channel.kind}/{channel.pk}/webhook", data=raw,
                content_type="application/json")

    def flush(self, channel: Channel, *, order: list[int] | None = None,
              repeat: int = 1) -> list[int]:
        bodies, self.fake.outbox = self.fake.outbox, []
        if order is not None:
            bodies = [bodies[i] for i in order]
        return [self.post(channel, body).status_code for body in bodies
                for _ in range(repeat)]


@pytest.fixture
def deliveries(graph: FakeMetaGraph, django_capture_on_commit_callbacks: Any) -> Deliveries:
    return Deliveries(graph, django_capture_on_commit_callbacks)
