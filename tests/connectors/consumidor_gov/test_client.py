"""The production client against the fake platform: the day's token, the envelopes, the
errors (401 on an expired token, 5xx, refusals outside the API's hours), the SSRF guard."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from atende.channels.models import Channel
from atende.connectors.consumidor_gov.client import ConsumidorClient, ConsumidorError
from atende.connectors.consumidor_gov.config import ApiConfig
from tests.fakes.consumidor_gov import FakeConsumidorGov, brasilia

pytestmark = pytest.mark.django_db


def test_lists_and_details_complaints_with_the_days_token(
        cg: FakeConsumidorGov, cg_channel: Channel) -> None:
    protocol = cg.new_complaint(text="Cobrança em dobro")
    client = ConsumidorClient.for_channel(cg_channel)
    listed = client.list_complaints(date(2026, 12, 7), date(2026, 12, 8))
    assert [c["protocolo"] for c in listed] == [protocol]
    detail = client.get_complaint(protocol)
    assert detail["tramites"][0]["textos"][0]["texto"] == "Cobrança em dobro"
    # One token for the day: three calls, one token request.
    client.get_complaint(protocol)
    assert cg.requests.count("POST /seguranca/empresa/token") == 1
    # The period is by opening day.
    assert client.list_complaints(date(2026, 12, 9), date(2026, 12, 9)) == []


def test_an_expired_token_is_asked_again_once(cg: FakeConsumidorGov,
                                              cg_channel: Channel) -> None:
    protocol = cg.new_complaint()
    client = ConsumidorClient.for_channel(cg_channel)
    client.get_complaint(protocol)
    cg.expire_tokens()  # midnight came: the platform answers 401
    assert client.get_complaint(protocol)["protocolo"] == protocol
    assert cg.requests.count("POST /seguranca/empresa/token") == 2


def test_server_errors_are_retryable_and_say_the_platforms_code(
        cg: FakeConsumidorGov, cg_channel: Channel) -> None:
    client = ConsumidorClient.for_channel(cg_channel)
    cg.fail_next(502)
    with pytest.raises(ConsumidorError) as failure:
        client.list_complaints(date(2026, 12, 8), date(2026, 12, 8))
    assert failure.value.retryable and failure.value.status == 502
    assert failure.value.code == "ERRO"


def test_outside_the_api_hours_the_platform_refuses(cg: FakeConsumidorGov,
                                                    cg_channel: Channel) -> None:
    cg.set_time(brasilia(2026, 12, 8, 15, 0))  # Tuesday 15:00
    with pytest.raises(ConsumidorError) as failure:
        ConsumidorClient.for_channel(cg_channel).authenticate()
    assert failure.value.status == 503 and failure.value.code == "HORARIO"
    assert failure.value.retryable
    assert cg.refusals == 1


def test_wrong_credentials_and_cpf_are_refused(cg: FakeConsumidorGov,
                                               cg_channel: Channel) -> None:
    cg_channel.secrets = {**cg_channel.secrets, "password": "wrong"}
    with pytest.raises(ConsumidorError) as failure:
        ConsumidorClient.for_channel(cg_channel).authenticate()
    assert failure.value.status == 401 and not failure.value.retryable

    channel = Channel.objects.get(pk=cg_channel.pk)
    channel.settings = {**channel.settings, "cpf": "11144477735"}  # valid, not authorised
    with pytest.raises(ConsumidorError) as refused:
        ConsumidorClient.for_channel(channel).list_complaints(date(2026, 12, 8),
                                                              date(2026, 12, 8))
    assert refused.value.status == 403 and refused.value.code == "CPF"


def test_the_contracts_unknowns_come_from_the_channel_settings(
        cg: FakeConsumidorGov, cg_channel: Channel) -> None:
    cg.respond_path = "/reclamacoes/{protocolo}/resposta"
    protocol = cg.new_complaint()
    cg_channel.settings = {**cg_channel.settings, "api": {
        **cg_channel.settings["api"], "respond_path": "/reclamacoes/{protocolo}/resposta"}}
    assert ApiConfig.of(cg_channel.settings).respond_path.endswith("/resposta")
    code = ConsumidorClient.for_channel(cg_channel).respond(protocol, "Estornamos o valor.")
    assert code == "2" and cg.status_of(protocol) == "Respondida"


def test_the_ssrf_guard_keeps_a_configured_address_off_the_private_network(
        cg: FakeConsumidorGov, cg_channel: Channel, ssrf_guard: None) -> None:
    with pytest.raises(ConsumidorError) as failure:
        ConsumidorClient.for_channel(cg_channel).authenticate()
    assert "loopback" in str(failure.value)
    assert cg.requests == []


def test_a_day_later_the_period_moves(cg: FakeConsumidorGov, cg_channel: Channel) -> None:
    first = cg.new_complaint()
    cg.advance(days=1)
    second = cg.new_complaint()
    today = cg.now.date()
    listed = ConsumidorClient.for_channel(cg_channel).list_complaints(
        today - timedelta(days=1), today)
    assert {c["protocolo"] for c in listed} == {first, second}
