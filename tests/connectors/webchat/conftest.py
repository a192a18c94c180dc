"""A website chat channel and a browser-like visitor talking to its public endpoints."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from django.test import Client

from atende.channels.models import Channel
from atende.connectors.webchat.channels import save_channel
from tests.conftest import Tenant

_ids = itertools.count(1)


def make_widget(tenant: Tenant, **options: Any) -> Channel:
    data: dict[str, Any] = {"name": "Site", "service": tenant.service, "title": "Acme",
                            "greeting": "Olá!", "colour": "#112233", "corner": "bottom-left",
                            "icon": "chat", "prechat": "optional", "origins": [],
                            **options}
    return save_channel(tenant.org, data)


class Visitor:
    """One browser: its own token, sending JSON the way the widget script does."""

    def __init__(self, channel: Channel, origin: str = "https://shop.example.com",
                 language: str = "pt-BR") -> None:
        self.channel = channel
        self.base = f"/widget/w/{channel.settings['public_id']}/"
        self.client = Client(HTTP_ORIGIN=origin, HTTP_ACCEPT_LANGUAGE=language)
        self.token = ""

    def _headers(self) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}

    def start(self, **body: Any) -> Any:
        response = self.client.post(self.base + "session", json.dumps(body),
                                    content_type="application/json")
        if response.status_code == 200:
            self.token = response.json()["token"]
        return response

    def say(self, text: str, client_id: str | None = None) -> Any:
        return self.client.post(self.base + "messages",
                                json.dumps({"client_id": client_id or f"c{next(_ids)}",
                                            "text": text}),
                                content_type="application/json", **self._headers())

    def upload(self, name: str, data: bytes) -> Any:
        from django.core.files.uploadedfile import SimpleUploadedFile

        return self.client.post(self.base + "messages",
                                {"client_id": f"f{next(_ids)}",
                                 "file": SimpleUploadedFile(name, data)},
                                **self._headers())

    def history(self) -> Any:
        return self.client.get(self.base + "messages", **self._headers())


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """The per-address counters live in the shared cache (Redis on the scaled profile, not
    cleared between tests, and every test client is 127.0.0.1): each test starts from none."""
    import time

    from django.core.cache import cache

    window = int(time.time() // 60)
    cache.delete_many([f"webchat:rl:{scope}:127.0.0.1:{w}" for scope in ("session-ip", "msg-ip")
                       for w in (window - 1, window, window + 1)])


@pytest.fixture
def widget(tenant: Tenant) -> Channel:
    return make_widget(tenant)


@pytest.fixture
def visitor(widget: Channel) -> Visitor:
    v = Visitor(widget)
    assert v.start(name="Ana").status_code == 200
    return v
