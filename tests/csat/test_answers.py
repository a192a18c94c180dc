"""The one answer of a ticket: its checks, idempotency, the signed link's tampering,
expiry and tenant, and the public page's rate limit."""

from __future__ import annotations

import time
from typing import Any
from unittest import mock

import pytest
from django.core import signing
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atende.channels.models import Channel
from atende.csat import views
from atende.csat.answers import (
    AlreadyAnswered,
    AnswerError,
    NotRateable,
    check_answer,
    rateable,
    record_answer,
)
from atende.csat.models import AnswerSource, Survey
from atende.csat.tokens import SALT, make_token
from atende.tickets.models import Ticket
from tests.conftest import Tenant
from tests.connectors.email.conftest import make_email_channel
from tests.csat.conftest import mailed_ticket, resolve

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved(tenant: Tenant, django_capture_on_commit_callbacks: Any) -> Ticket:
    """A resolved ticket of a channel whose survey is off (no invitation: the portal's
    banner and the API still record an answer)."""
    ticket = mailed_ticket(make_email_channel(tenant))
    return resolve(ticket, django_capture_on_commit_callbacks)


def _survey_path(ticket: Ticket, organization_id: int | None = None) -> str:
    survey = Survey.objects.get(ticket=ticket)
    return f"/csat/{make_token(organization_id or ticket.organization_id, survey.pk)}/"


@pytest.mark.parametrize("score", [0, 6, -1, "abc", "", None, 4.5, "4.0", True, "05"])
def test_a_score_outside_1_to_5_is_refused(score: Any) -> None:
    with pytest.raises(AnswerError) as refused:
        check_answer(score, "")
    assert refused.value.field == "score"


@given(st.integers(min_value=1, max_value=5), st.text(max_size=2000))
@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_score_1_to_5_with_any_comment_is_accepted(score: int, comment: str) -> None:
    assert check_answer(score, comment) == (score, comment.strip())
    assert check_answer(str(score), comment)[0] == score


def test_a_comment_too_long_is_refused() -> None:
    with pytest.raises(AnswerError):
        check_answer(3, "x" * 2001)


def test_the_portal_records_one_answer_and_a_second_is_refused(resolved: Ticket) -> None:
    assert rateable(resolved.organization_id, resolved.pk)
    survey = record_answer(resolved.organization_id, resolved.pk, 4, " bom ",
                           via=AnswerSource.PORTAL)
    assert (survey.score, survey.comment, survey.channel_id, survey.service_id) == (
        4, "bom", resolved.channel_id, resolved.service_id)
    with pytest.raises(AlreadyAnswered):
        record_answer(resolved.organization_id, resolved.pk, 1, "", via=AnswerSource.PORTAL)
    assert Survey.objects.get(ticket=resolved).score == 4
    assert not rateable(resolved.organization_id, resolved.pk)


def test_an_open_ticket_or_another_tenants_ticket_cannot_be_rated(
        tenant: Tenant, other_tenant: Tenant) -> None:
    ticket = mailed_ticket(make_email_channel(tenant))
    assert not rateable(tenant.org.pk, ticket.pk)
    with pytest.raises(NotRateable):
        record_answer(tenant.org.pk, ticket.pk, 5)
    with pytest.raises(NotRateable):
        record_answer(other_tenant.org.pk, ticket.pk, 5)
    assert not Survey.objects.exists()


def test_the_page_refuses_out_of_range_scores_and_keeps_the_comment(resolved: Ticket) -> None:
    record = Survey.objects.create(organization_id=resolved.organization_id, ticket=resolved,
                                   contact_id=resolved.contact_id, status="sent")
    path = f"/csat/{make_token(resolved.organization_id, record.pk)}/"
    page = Client().post(path, {"score": "9", "comment": "ótimo"})
    assert page.status_code == 400 and "ótimo" in page.content.decode()
    assert not Survey.objects.get(pk=record.pk).answered


def test_a_tampered_token_is_refused(resolved: Ticket) -> None:
    record = Survey.objects.create(organization_id=resolved.organization_id, ticket=resolved,
                                   contact_id=resolved.contact_id, status="sent")
    token = make_token(resolved.organization_id, record.pk)
    _payload, _sep, rest = token.partition(":")
    forged = signing.b64_encode(
        f'{{"o":{resolved.organization_id},"s":{record.pk + 1}}}'.encode()).decode()
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
                f"{forged}:{rest}", "not-a-token", token + "x"):
        response = Client().post(f"/csat/{bad}/", {"score": "5"})
        assert response.status_code == 404, bad
    assert not Survey.objects.get(pk=record.pk).answered


def test_an_expired_token_is_refused(resolved: Ticket, settings: Any) -> None:
    settings.CSAT_LINK_MAX_AGE_DAYS = 30
    record = Survey.objects.create(organization_id=resolved.organization_id, ticket=resolved,
                                   contact_id=resolved.contact_id, status="sent")
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 31 * 86400):
        old = make_token(resolved.organization_id, record.pk)
    response = Client().post(f"/csat/{old}/", {"score": "5"})
    assert (response.status_code == 404 and "expired" in response.content.decode().lower()) \
        or "expirou" in response.content.decode()
    assert not Survey.objects.get(pk=record.pk).answered
    # The same link within its 30 days works.
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 29 * 86400):
        recent = make_token(resolved.organization_id, record.pk)
    assert Client().post(f"/csat/{recent}/", {"score": "5"}).status_code == 200


def test_a_token_of_organisation_a_cannot_rate_a_ticket_of_organisation_b(
        tenant: Tenant, other_tenant: Tenant,
        django_capture_on_commit_callbacks: Any) -> None:
    ticket_b = resolve(mailed_ticket(make_email_channel(other_tenant)),
                       django_capture_on_commit_callbacks)
    survey_b = Survey.objects.create(organization_id=other_tenant.org.pk, ticket=ticket_b,
                                     contact_id=ticket_b.contact_id, status="sent")
    # Validly signed, but for organisation A: B's survey id is not found in A.
    token = make_token(tenant.org.pk, survey_b.pk)
    assert Client().get(f"/csat/{token}/").status_code == 404
    assert Client().post(f"/csat/{token}/", {"score": "1"}).status_code == 404
    assert not Survey.objects.get(pk=survey_b.pk).answered
    # A token signed for another use (another salt) is no rating link either.
    other_use = signing.dumps({"o": other_tenant.org.pk, "s": survey_b.pk}, salt=SALT + "x")
    assert Client().post(f"/csat/{other_use}/", {"score": "1"}).status_code == 404


def test_the_public_page_is_rate_limited_per_address(
        resolved: Ticket, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "POSTS_PER_WINDOW", 3)
    record = Survey.objects.create(organization_id=resolved.organization_id, ticket=resolved,
                                   contact_id=resolved.contact_id, status="sent")
    path = f"/csat/{make_token(resolved.organization_id, record.pk)}/"
    client = Client()
    statuses = [client.post(path, {"score": "0"}).status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
    assert not Survey.objects.get(pk=record.pk).answered


def test_the_channel_survey_settings_are_read_defensively(tenant: Tenant) -> None:
    from atende.csat.config import CsatSettings

    channel = Channel(organization=tenant.org, kind="email", name="x",
                      settings={"csat": {"enabled": "yes", "delay_minutes": "-5",
                                         "texts": "nope"}})
    config = CsatSettings.of(channel)
    assert config.enabled and config.delay_minutes == 0 and config.texts == ()
    channel.settings = {"csat": {"enabled": True, "delay_minutes": 10 ** 9}}
    assert CsatSettings.of(channel).delay_minutes == 7 * 24 * 60
