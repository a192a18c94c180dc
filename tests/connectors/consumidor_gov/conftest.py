"""A Consumidor.gov.br channel saved through its production settings form against the
fake platform, with the connector's clock moved together with the fake's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from atende.channels.models import Channel
from atende.connectors.consumidor_gov import hours
from atende.connectors.consumidor_gov.channels import save_channel
from atende.connectors.consumidor_gov.settings_form import ConsumidorChannelForm
from atende.tenancy.models import Organization, Service
from tests.conftest import Tenant
from tests.fakes.consumidor_gov import CLIENT_ID, CODE, CPF, PASSWORD, FakeConsumidorGov


@pytest.fixture
def cg(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeConsumidorGov]:
    with FakeConsumidorGov() as fake:
        # One clock for the platform and the connector: the test moves the fake's.
        monkeypatch.setattr(hours, "current_time", lambda: fake.now)
        yield fake


def channel_form(org: Organization, service: Service | None, fake: FakeConsumidorGov,
                 **overrides: Any) -> ConsumidorChannelForm:
    data = {"name": "Consumidor.gov.br", "client_id": CLIENT_ID, "code": CODE,
            "password": PASSWORD, "cpf": "529.982.247-25", "base_url": fake.url,
            "service": service.pk if service else "", **overrides}
    return ConsumidorChannelForm(org.pk, data=data)


def connect(org: Organization, service: Service | None, fake: FakeConsumidorGov) -> Channel:
    form = channel_form(org, service, fake)
    assert form.is_valid(), form.errors
    channel = save_channel(org, form)
    assert channel.settings["cpf"] == CPF
    return channel


@pytest.fixture
def cg_channel(tenant: Tenant, cg: FakeConsumidorGov) -> Channel:
    return connect(tenant.org, tenant.service, cg)


def at(fake: FakeConsumidorGov, moment: datetime) -> None:
    fake.set_time(moment)
