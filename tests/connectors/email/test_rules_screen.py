"""The "Processing rules" screen of an e-mail channel (EM-8): CRUD, order, validation,
choices from the organisation only, tenant isolation, settings permission, and a rule made
on the screen applied to a mail delivered through Dovecot."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from atende.channels.models import Channel
from atende.connectors.email.imap import poll_imap
from atende.connectors.email.models import ProcessingRule
from atende.tenancy.models import Membership, Role, Service, User
from atende.tickets.models import Ticket
from tests.conftest import Tenant
from tests.connectors.email.conftest import Mailbox, customer_mail, make_email_channel

pytestmark = pytest.mark.django_db


def url(channel: Channel, suffix: str = "") -> str:
    return f"/settings/channels/{channel.pk}/rules/{suffix}"


def rule_data(**overrides: Any) -> dict[str, Any]:
    return {"name": "Boletos", "field": "subject", "header_name": "", "operator": "contains",
            "value": "boleto", "category": "cobrança", "priority": "high", "tag": "",
            "is_active": "on", **overrides}


def names(channel: Channel) -> list[str]:
    return list(ProcessingRule.objects.filter(channel=channel).order_by("position")
                .values_list("name", flat=True))


def test_create_list_edit_toggle_delete(admin_client: Client, tenant: Tenant,
                                        email_channel: Channel) -> None:
    edit_page = admin_client.get(f"/settings/channels/{email_channel.pk}/").content.decode()
    assert url(email_channel) in edit_page  # linked from the channel's settings
    assert "No rules yet" in admin_client.get(url(email_channel)).content.decode()

    response = admin_client.post(url(email_channel, "new/"), rule_data())
    assert response.status_code == 302
    rule = ProcessingRule.objects.get(channel=email_channel)
    assert (rule.organization_id, rule.position, rule.priority) == (tenant.org.pk, 1, "high")
    page = admin_client.get(url(email_channel)).content.decode()
    assert "Boletos" in page and "boleto" in page and "High" in page

    admin_client.post(url(email_channel, f"{rule.pk}/"), rule_data(name="Segunda via"))
    rule.refresh_from_db()
    assert rule.name == "Segunda via"

    admin_client.post(url(email_channel, f"{rule.pk}/toggle/"))
    rule.refresh_from_db()
    assert not rule.is_active

    admin_client.post(url(email_channel, f"{rule.pk}/delete/"))
    assert not ProcessingRule.objects.exists()


def test_new_rules_go_last_and_move_up_and_down(admin_client: Client,
                                                email_channel: Channel) -> None:
    for name in ("A", "B", "C"):
        admin_client.post(url(email_channel, "new/"), rule_data(name=name))
    assert names(email_channel) == ["A", "B", "C"]
    c = ProcessingRule.objects.get(name="C")
    admin_client.post(url(email_channel, f"{c.pk}/move/"), {"direction": "up"})
    assert names(email_channel) == ["A", "C", "B"]
    admin_client.post(url(email_channel, f"{c.pk}/move/"), {"direction": "up"})
    admin_client.post(url(email_channel, f"{c.pk}/move/"), {"direction": "up"})  # at the top
    assert names(email_channel) == ["C", "A", "B"]
    a = ProcessingRule.objects.get(name="A")
    admin_client.post(url(email_channel, f"{a.pk}/move/"), {"direction": "down"})
    assert names(email_channel) == ["C", "B", "A"]
    admin_client.post(url(email_channel, f"{c.pk}/delete/"))
    assert list(ProcessingRule.objects.order_by("position").values_list("position", flat=True)
                ) == [1, 2]
    page = admin_client.get(url(email_channel)).content.decode()
    assert page.index(">B<") < page.index(">A<")


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"field": "header", "header_name": ""}, "header_name", "Say which header"),
    ({"field": "header", "header_name": "X Bad:"}, "header_name", "letters, digits"),
    ({"operator": "regex", "value": "(boleto"}, "value", "not a valid regular expression"),
    ({"operator": "regex", "value": "(a+)+$"}, "value", "too long"),
    ({"operator": "regex", "value": "a" * 201}, "value", "at most 200"),
    ({"category": "", "priority": ""}, "__all__", "at least one action"),
    ({"priority": "altíssima"}, "priority", "Select a valid choice"),
])
def test_bad_rules_are_explained(admin_client: Client, email_channel: Channel,
                                 overrides: dict[str, str], field: str, message: str) -> None:
    response = admin_client.post(url(email_channel, "new/"), rule_data(**overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field]), errors
    assert not ProcessingRule.objects.exists()


def test_regex_and_header_rules_are_accepted(admin_client: Client,
                                             email_channel: Channel) -> None:
    admin_client.post(url(email_channel, "new/"),
                      rule_data(operator="regex", value=r"^pedido \d{4,}$"))
    admin_client.post(url(email_channel, "new/"),
                      rule_data(name="H", field="header", header_name="X-Origem"))
    assert ProcessingRule.objects.filter(operator="regex").exists()
    assert ProcessingRule.objects.get(name="H").header_name == "X-Origem"


def test_choices_come_from_the_organisation_only(
        admin_client: Client, tenant: Tenant, other_tenant: Tenant,
        email_channel: Channel) -> None:
    theirs = Service.objects.create(organization=other_tenant.org, name="Deles")
    page = admin_client.get(url(email_channel, "new/")).content.decode()
    assert "Deles" not in page and other_tenant.admin.email not in page
    assert tenant.admin.email in page
    response = admin_client.post(url(email_channel, "new/"), rule_data(service=theirs.pk))
    assert "service" in response.context["form"].errors
    response = admin_client.post(url(email_channel, "new/"),
                                 rule_data(assignee=other_tenant.admin.pk))
    assert "assignee" in response.context["form"].errors
    assert not ProcessingRule.objects.exists()


def test_another_tenants_channel_and_rules_are_404(
        admin_client: Client, tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = make_email_channel(other_tenant)
    their_rule = ProcessingRule.objects.create(
        organization=other_tenant.org, channel=theirs, name="deles", field="subject",
        value="x", category="y")
    mine = make_email_channel(tenant)
    for path in (url(theirs), url(theirs, "new/"), url(theirs, f"{their_rule.pk}/"),
                 url(mine, f"{their_rule.pk}/")):
        assert admin_client.get(path).status_code == 404, path
    for suffix in ("move/", "toggle/", "delete/"):
        for channel in (theirs, mine):
            response = admin_client.post(url(channel, f"{their_rule.pk}/{suffix}"),
                                         {"direction": "up"})
            assert response.status_code == 404
    their_rule.refresh_from_db()
    assert their_rule.is_active
    assert admin_client.post(url(theirs, "new/"), rule_data()).status_code == 404
    assert ProcessingRule.objects.count() == 1


def test_agents_without_settings_permission_get_403(tenant: Tenant,
                                                    email_channel: Channel) -> None:
    user = User.objects.create_user("agente@example.com", "pw-agent-123")
    Membership.objects.create(organization=tenant.org, user=user, role=Role.AGENT)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    assert client.get(url(email_channel)).status_code == 403
    assert client.post(url(email_channel, "new/"), rule_data()).status_code == 403
    assert not ProcessingRule.objects.exists()


def test_a_rule_made_on_the_screen_routes_a_mail_from_dovecot(
        admin_client: Client, tenant: Tenant, imap_channel: Channel, mailbox: Mailbox) -> None:
    billing = Service.objects.create(organization=tenant.org, name="Financeiro")
    response = admin_client.post(url(imap_channel, "new/"), rule_data(
        operator="regex", value=r"segunda via.*boleto", service=billing.pk,
        tag="boleto", assignee=tenant.admin.pk, priority="urgent", category=""))
    assert response.status_code == 302, response.context["form"].errors
    admin_client.post(url(imap_channel, "new/"), rule_data(
        name="Spam", field="from", operator="ends_with", value="@spam.example",
        ignore="on", category="", priority=""))
    mailbox.append(customer_mail(subject="Quero a SEGUNDA VIA do boleto"))
    mailbox.append(customer_mail(subject="Compre já", sender="x@spam.example"))
    mailbox.append(customer_mail(subject="Outra coisa"))
    poll_imap(imap_channel)
    routed = Ticket.objects.get(subject="Quero a SEGUNDA VIA do boleto")
    assert routed.service == billing and routed.priority == "urgent"
    assert routed.assignee == tenant.admin
    assert list(routed.tags.values_list("name", flat=True)) == ["boleto"]
    assert not Ticket.objects.filter(subject="Compre já").exists()
    assert Ticket.objects.get(subject="Outra coisa").priority == "normal"


def test_the_list_page_has_a_constant_query_count(
        admin_client: Client, tenant: Tenant, email_channel: Channel,
        django_assert_max_num_queries: Any) -> None:
    for n in range(12):
        ProcessingRule.objects.create(organization=tenant.org, channel=email_channel,
                                      name=f"r{n}", field="subject", value="x",
                                      service=tenant.service, assignee=tenant.admin,
                                      position=n)
    with django_assert_max_num_queries(12):
        assert admin_client.get(url(email_channel)).status_code == 200
