"""The "Notifications" screen of an e-mail channel: defaults, editing, validation, the
preview (HTMX partial) and tenant isolation."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from atende.channels.models import Channel
from atende.connectors.email.models import NotificationEvent, NotificationTemplate
from atende.connectors.email.notification_form import field_name
from atende.connectors.email.notification_texts import default_text
from atende.contacts.services import find_or_create_contact
from atende.tickets.services.actor import Actor
from atende.tickets.services.create import open_ticket
from tests.conftest import Tenant
from tests.connectors.email.conftest import make_email_channel

pytestmark = pytest.mark.django_db

EVENTS = NotificationEvent.values
LANGUAGES = ("pt-br", "en")


@pytest.fixture
def channel(tenant: Tenant) -> Channel:
    return make_email_channel(tenant)


def url(channel: Channel, suffix: str = "") -> str:
    return f"/settings/channels/{channel.pk}/notifications/{suffix}"


def defaults(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for event in EVENTS:
        for language in LANGUAGES:
            text = default_text(event, language)
            data[field_name(event, language, "subject")] = text.subject
            data[field_name(event, language, "body")] = text.body
    return {**data, **overrides}


def test_the_screen_shows_the_defaults_in_both_languages_and_the_variables(
        admin_client: Client, channel: Channel) -> None:
    page = admin_client.get(url(channel))
    assert page.status_code == 200
    html = page.content.decode()
    assert "We received your message: {{ ticket.subject }}" in html
    assert "Recebemos sua mensagem: {{ ticket.subject }}" in html
    assert "{{ contact.name }}" in html and "{{ ticket.status }}" in html
    # Reached from the channel's edit page.
    assert url(channel) in admin_client.get(f"/settings/channels/{channel.pk}/").content.decode()


def test_saving_turns_a_notification_on_with_its_texts(
        admin_client: Client, channel: Channel) -> None:
    subject = field_name("resolved", "pt-br", "subject")
    saved = admin_client.post(url(channel), defaults(
        resolved_enabled="on", **{subject: "Resolvido: {{ ticket.protocol }}"}))
    assert saved.status_code == 302
    rows = NotificationTemplate.objects.filter(channel=channel)
    assert rows.count() == len(EVENTS) * len(LANGUAGES)
    resolved = rows.get(event="resolved", language="pt-br")
    assert resolved.enabled and resolved.subject == "Resolvido: {{ ticket.protocol }}"
    assert rows.get(event="resolved", language="en").enabled
    assert not rows.get(event="opened", language="pt-br").enabled
    # Shown again as saved.
    assert "Resolvido: {{ ticket.protocol }}" in admin_client.get(url(channel)).content.decode()


def test_an_unknown_variable_is_refused_with_a_clear_error(
        admin_client: Client, channel: Channel) -> None:
    body = field_name("opened", "en", "body")
    page = admin_client.post(url(channel), defaults(**{body: "Hi {{ contact.password }}"}))
    assert page.status_code == 200
    assert "Unknown variable: contact.password" in page.content.decode()
    assert not NotificationTemplate.objects.exists()


def test_the_preview_fills_the_text_being_edited_from_the_latest_ticket(
        admin_client: Client, tenant: Tenant, channel: Channel) -> None:
    subject = field_name("opened", "pt-br", "subject")
    body = field_name("opened", "pt-br", "body")
    data = defaults(**{subject: "Olá {{ contact.name }}",
                       body: "<b>{{ ticket.subject }}</b> · {{ ticket.status }}"})
    sample = admin_client.post(url(channel, "preview/"),
                               {**data, "event": "opened", "language": "pt-br"},
                               HTTP_HX_REQUEST="true")
    assert sample.status_code == 200
    html = sample.content.decode()
    assert "Olá Maria Souza" in html and "[#TKT-000123]" in html
    assert "example ticket" in html

    contact = find_or_create_contact(tenant.org, "email", "joao@example.com", "João Lima")
    ticket, _ = open_ticket(organization=tenant.org, contact=contact, subject="Boleto <vencido>",
                            actor=Actor(user=tenant.admin), origin="email", channel=channel)
    latest = admin_client.post(url(channel, "preview/"),
                               {**data, "event": "opened", "language": "pt-br"})
    html = latest.content.decode()
    assert "Olá João Lima" in html and ticket.protocol in html
    # The customer's words and the template are text, never markup.
    assert "&lt;b&gt;Boleto &lt;vencido&gt;&lt;/b&gt; · Novo" in html
    assert "<b>" not in html


def test_a_preview_of_an_unknown_event_is_not_found(
        admin_client: Client, channel: Channel) -> None:
    answer = admin_client.post(url(channel, "preview/"), {"event": "x", "language": "en"})
    assert answer.status_code == 404


def test_another_tenants_channel_is_not_found(
        admin_client: Client, other_tenant: Tenant) -> None:
    theirs = make_email_channel(other_tenant)
    assert admin_client.get(url(theirs)).status_code == 404
    assert admin_client.post(url(theirs), defaults(opened_enabled="on")).status_code == 404
    assert admin_client.post(url(theirs, "preview/"),
                             {"event": "opened", "language": "en"}).status_code == 404
    assert not NotificationTemplate.objects.exists()


def test_the_screen_is_only_for_email_channels(admin_client: Client, tenant: Tenant) -> None:
    api_channel = Channel.objects.create(organization=tenant.org, kind="api", name="ERP")
    assert admin_client.get(url(api_channel)).status_code == 404


def test_the_reminder_delay_is_a_setting_of_the_channel_form(
        admin_client: Client, channel: Channel) -> None:
    page = admin_client.get(f"/settings/channels/{channel.pk}/").content.decode()
    assert 'name="answer_reminder_hours"' in page
