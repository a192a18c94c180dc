"""Settings > Customer portal and Ticket categories: the form's layout edited row by row,
the colours previewed with a contrast warning, and the managed categories the form uses."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from atende.connectors.portal import appearance, form_fields
from atende.connectors.portal.channels import category_names, settings_for
from atende.connectors.portal.models import Category
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db
URL = "/settings/portal/"


def _post(fields: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "fields-TOTAL_FORMS": str(len(fields)), "fields-INITIAL_FORMS": str(len(fields)),
        "fields-MIN_NUM_FORMS": "0", "fields-MAX_NUM_FORMS": "1000",
        "reopen_days": "7", "primary_color": "#1f4e8c", "secondary_color": "#ffffff",
        "welcome_title": "", "welcome_text": "", **options}
    for n, field in enumerate(fields):
        for name, value in field.items():
            if value is not False:
                data[f"fields-{n}-{name}"] = value
    return data


def _current() -> list[dict[str, Any]]:
    return [{"key": f.key, "label": f.label, "type": f.type, "required": f.required or False,
             "options": "\n".join(f.options), "ORDER": str(n + 1)}
            for n, f in enumerate(form_fields.defaults())]


def test_the_seed_form_is_the_default(tenant: Tenant) -> None:
    fields = form_fields.load(settings_for(tenant.org.pk).form_fields)
    assert [(f.key, f.type, f.required) for f in fields] == [
        ("subject", "text", True), ("category", "dropdown", True),
        ("priority", "dropdown", True), ("description", "textarea", True),
        ("attachments", "upload", False), ("equipment", "dropdown", False),
        ("contact_phone", "phone", False)]


def test_an_admin_reorders_removes_and_adds_fields(tenant: Tenant, admin_client: Client) -> None:
    rows = _current()
    rows[3]["ORDER"] = "0"  # description first
    rows[5]["DELETE"] = "on"  # no equipment
    rows.append({"key": "", "label": "Número do pedido", "type": "dropdown",
                 "required": "on", "options": "A\nB\n", "ORDER": "9"})
    response = admin_client.post(URL, _post(rows))
    assert response.status_code == 302, response.content.decode()
    fields = form_fields.load(settings_for(tenant.org.pk).form_fields)
    assert [f.key for f in fields] == ["description", "subject", "category", "priority",
                                       "attachments", "contact_phone", "numero_do_pedido"]
    assert (fields[-1].required, fields[-1].options) == (True, ["A", "B"])


def test_subject_and_description_cannot_be_removed_and_a_dropdown_needs_options(
        tenant: Tenant, admin_client: Client) -> None:
    rows = _current()
    rows[0]["DELETE"] = "on"
    assert "always asked" in admin_client.post(URL, _post(rows)).content.decode()
    rows = _current()
    rows.append({"key": "", "label": "Loja", "type": "dropdown", "options": "", "ORDER": "9"})
    assert "needs at least one option" in admin_client.post(URL, _post(rows)).content.decode()
    assert len(form_fields.load(settings_for(tenant.org.pk).form_fields)) == 7


def test_a_preview_warns_of_low_contrast_and_saves_nothing(
        tenant: Tenant, admin_client: Client) -> None:
    page = admin_client.post(URL, _post(_current(), primary_color="#777777",
                                        secondary_color="#888888", preview="1"))
    body = page.content.decode()
    assert page.status_code == 200 and "WCAG AA" in body and "background:#777777" in body
    assert settings_for(tenant.org.pk).primary_color == "#1f4e8c"


def test_an_svg_logo_is_refused(tenant: Tenant, admin_client: Client) -> None:
    svg = SimpleUploadedFile("logo.svg", b"<svg onload='alert(1)'/>", content_type="image/svg+xml")
    data = _post(_current(), logo=svg)
    assert "PNG, JPEG, WebP or GIF" in admin_client.post(URL, data).content.decode()


def test_contrast_ratios_follow_wcag() -> None:
    assert appearance.contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert appearance.contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert appearance.text_on("#1f4e8c") == "#ffffff"
    assert appearance.text_on("#ffeb3b") == "#000000"
    assert appearance.make_theme("#1f4e8c", "#ffffff").warnings == []
    assert "secondary" not in appearance.make_theme("#ffff00", "#ffffff").warnings
    assert "links" in appearance.make_theme("#ffff00", "#ffffff").warnings


def test_categories_are_a_managed_list_of_the_organisation(
        tenant: Tenant, other_tenant: Tenant, admin_client: Client) -> None:
    response = admin_client.post("/settings/ticket-categories/new/",
                                 {"name": "Financeiro", "position": "1"})
    assert response.status_code == 302
    Category.objects.create(organization=other_tenant.org, name="Alheia")
    assert category_names(tenant.org.pk) == ["Financeiro"]
    duplicate = admin_client.post("/settings/ticket-categories/new/",
                                  {"name": "Financeiro", "position": "2"})
    assert duplicate.status_code == 200
    assert Category.objects.filter(organization=tenant.org).count() == 1


def test_an_agent_sets_the_category_from_the_managed_list_only(
        tenant: Tenant, admin_client: Client, make_ticket: Any) -> None:
    Category.objects.create(organization=tenant.org, name="Financeiro")
    ticket = make_ticket(tenant.org, category="Texto antigo")
    page = admin_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert '<option value="Financeiro">Financeiro</option>' in page
    assert '<option value="Texto antigo" selected>' in page  # kept, though not managed
    change = f"/tickets/{ticket.pk}/change/"
    admin_client.post(change, {"initial_category": "Texto antigo", "category": "Inventada"})
    ticket.refresh_from_db()
    assert ticket.category == "Texto antigo"
    admin_client.post(change, {"initial_category": "Texto antigo", "category": "Financeiro"})
    ticket.refresh_from_db()
    assert ticket.category == "Financeiro"


def test_the_logo_is_saved_and_served_by_the_portal(tenant: Tenant, admin_client: Client) -> None:
    from atende.connectors.portal.channels import create_portal_channel

    create_portal_channel(tenant.org, name="Portal")
    png = SimpleUploadedFile("logo.png", b"\x89PNG\r\n\x1a\n fake", content_type="image/png")
    assert admin_client.post(URL, _post(_current(), logo=png)).status_code == 302
    portal = f"/p/{tenant.org.slug}/"
    assert f'src="{portal}brand/logo/"' in Client().get(portal).content.decode()
    served = Client().get(f"{portal}brand/logo/")
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert Client().get(f"{portal}brand/favicon/").status_code == 404
