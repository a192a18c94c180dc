"""The channel's settings (CG-1): the CPF checked by its digits, the secrets encrypted and
kept when left blank, "test connection" against the platform, the demo's channel."""

from __future__ import annotations

import pytest
from django.utils import translation

from atende.channels.models import Channel
from atende.channels.registry import get_connector
from atende.connectors.consumidor_gov.channels import save_channel
from atende.connectors.consumidor_gov.demo import create_demo_channel
from atende.connectors.consumidor_gov.receive import sync_channel
from tests.conftest import Tenant
from tests.connectors.consumidor_gov.conftest import channel_form
from tests.fakes.consumidor_gov import CODE, PASSWORD, FakeConsumidorGov, brasilia

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("cpf", ["529.982.247-24", "11111111111", "5299822472", "abc"])
def test_a_cpf_with_wrong_check_digits_is_refused(tenant: Tenant, cg: FakeConsumidorGov,
                                                  cpf: str) -> None:
    with translation.override("en"):
        form = channel_form(tenant.org, tenant.service, cg, cpf=cpf)
        assert not form.is_valid()
        assert "This is not a valid CPF." in form.errors["cpf"]


def test_the_form_warns_about_the_cpf_and_needs_the_secrets(
        tenant: Tenant, cg: FakeConsumidorGov) -> None:
    with translation.override("en"):
        form = channel_form(tenant.org, tenant.service, cg, code="", password="")
        assert not form.is_valid() and {"code", "password"} <= set(form.errors)
        assert "file complaints as a consumer" in str(form["cpf"].help_text)


def test_secrets_are_encrypted_and_kept_when_left_blank(
        tenant: Tenant, cg: FakeConsumidorGov, cg_channel: Channel) -> None:
    raw = Channel.objects.filter(pk=cg_channel.pk).values_list(
        "encrypted_secrets", "settings").get()
    assert CODE not in raw[0] and PASSWORD not in raw[0]
    assert CODE not in str(raw[1]) and PASSWORD not in str(raw[1])
    form = channel_form(tenant.org, tenant.service, cg, code="", password="", name="Novo")
    form.has_secrets = True
    assert form.is_valid(), form.errors
    save_channel(tenant.org, form, Channel.objects.get(pk=cg_channel.pk))
    channel = Channel.objects.get(pk=cg_channel.pk)
    assert channel.name == "Novo"
    assert channel.secrets == {"code": CODE, "password": PASSWORD}


def test_test_connection_proves_the_credentials_in_the_api_hours(
        cg: FakeConsumidorGov, cg_channel: Channel) -> None:
    connector = get_connector("consumidor_gov")
    assert connector.test_connection(cg_channel).ok
    cg.set_time(brasilia(2026, 12, 8, 15, 0))
    closed = connector.test_connection(cg_channel)
    assert not closed.ok and closed.step == "hours" and "17:00" in closed.message
    assert cg.refusals == 0  # nothing was sent while closed
    cg.set_time(brasilia(2026, 12, 8, 17, 0))
    cg_channel.secrets = {"code": CODE, "password": "wrong"}
    refused = connector.test_connection(cg_channel)
    assert not refused.ok and "401" in refused.message


def test_the_demo_channel_reads_the_fake_at_any_hour(
        tenant: Tenant, cg: FakeConsumidorGov, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATENDE_DEMO_CONSUMIDOR_URL", cg.url)
    cg.enforce_hours = False
    cg.set_time(brasilia(2026, 12, 8, 23, 0))  # a Tuesday night
    channel = create_demo_channel(tenant.org, tenant.service)
    assert create_demo_channel(tenant.org, tenant.service).pk == channel.pk
    protocol = cg.new_complaint()
    result = sync_channel(channel)
    assert not result.skipped and result.protocols == [protocol]
