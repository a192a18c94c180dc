"""Customer accounts: sign-up with verification, password and one-time link sign-in,
reset, rate limits, no account enumeration, and sessions apart from the agents'."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from atende.channels.models import Channel
from atende.connectors.portal.models import CustomerAccount
from atende.connectors.portal.sessions import COOKIE
from atende.contacts.models import ContactIdentity, IdentityKind
from atende.tenancy import signin_limits
from tests.conftest import Tenant
from tests.connectors.portal.conftest import PASSWORD, Customer, link_in, sign_up

pytestmark = pytest.mark.django_db


def _page(content: bytes, email: str) -> str:
    """The page without what differs on every answer (the CSRF token) or was typed."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "",
                  content.decode().replace(email, "X"))


def _client(ip: str = "10.9.0.1") -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR=ip)


def test_sign_up_creates_a_verified_account_on_the_email_contact(
        tenant: Tenant, portal: Channel, mailoutbox: Any) -> None:
    customer = sign_up(tenant.org.slug, "Carla@Example.com", mailoutbox)
    assert customer.account.email == "carla@example.com"
    identity = ContactIdentity.objects.get(organization=tenant.org, kind=IdentityKind.EMAIL,
                                           value="carla@example.com")
    assert identity.contact_id == customer.account.contact_id
    home = customer.client.get(customer.base)
    assert "My tickets" in home.content.decode()
    cookie = customer.client.cookies[COOKIE]
    assert cookie["path"] == customer.base and cookie["httponly"]


def test_a_verification_link_makes_one_account_only(
        tenant: Tenant, portal: Channel, mailoutbox: Any) -> None:
    client = _client()
    client.post(f"/p/{tenant.org.slug}/signup/", {"name": "Ana", "email": "ana@example.com"})
    path = link_in(mailoutbox[0].body, "/verify/")
    assert client.post(path, {"password": PASSWORD}).status_code == 302
    again = _client("10.9.0.2").post(path, {"password": "another-password-22"})
    assert again["Location"].endswith("/signin/")
    assert CustomerAccount.objects.filter(email="ana@example.com").count() == 1


def test_a_forged_or_foreign_verification_link_is_refused(
        tenant: Tenant, other_tenant: Tenant, portal: Channel, mailoutbox: Any) -> None:
    from atende.connectors.portal.channels import create_portal_channel
    create_portal_channel(other_tenant.org, name="Portal B")
    _client().post(f"/p/{tenant.org.slug}/signup/", {"name": "Ana", "email": "ana@example.com"})
    path = link_in(mailoutbox[0].body, "/verify/")
    token = path.rstrip("/").rsplit("/", 1)[1]
    # The same token on another organisation's portal: its salt differs.
    foreign = _client().get(f"/p/{other_tenant.org.slug}/verify/{token}/")
    assert foreign.status_code == 400
    assert _client().get(path[:-5] + "xx/").status_code == 400


def test_sign_up_answers_the_same_whether_or_not_the_address_has_an_account(
        customer: Customer, mailoutbox: Any) -> None:
    before = len(mailoutbox)
    url = f"{customer.base}signup/"
    known = _client().post(url, {"name": "X", "email": "carla@example.com"})
    unknown = _client().post(url, {"name": "X", "email": "nobody@example.com"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    known_mail, unknown_mail = mailoutbox[before:]
    assert "already has one" in known_mail.body and "/verify/" not in known_mail.body
    assert "/verify/" in unknown_mail.body


def test_wrong_password_and_unknown_address_read_the_same(customer: Customer) -> None:
    wrong = _client().post(f"{customer.base}signin/",
                           {"email": "carla@example.com", "password": "not-the-password"})
    unknown = _client().post(f"{customer.base}signin/",
                             {"email": "nobody@example.com", "password": "not-the-password"})
    assert wrong.status_code == unknown.status_code == 200
    assert _page(wrong.content, "carla@example.com") == _page(unknown.content,
                                                             "nobody@example.com")
    assert COOKIE not in wrong.cookies


def test_sign_in_is_rate_limited_alike_for_known_and_unknown_addresses(
        customer: Customer) -> None:
    for email in ("carla@example.com", "nobody@example.com"):
        client = _client("10.9.1.1")
        for _n in range(signin_limits.PAIR.max_failures):
            assert client.post(f"{customer.base}signin/",
                               {"email": email, "password": "wrong-password-x"}).status_code == 200
        blocked = client.post(f"{customer.base}signin/", {"email": email, "password": PASSWORD})
        assert blocked.status_code == 429
    # Another address (machine) is not held back by that one's failures.
    assert _client("10.9.1.2").post(f"{customer.base}signin/", {
        "email": "carla@example.com", "password": PASSWORD}).status_code == 302


def test_mails_stop_past_the_limit_with_the_same_answer(
        tenant: Tenant, portal: Channel, mailoutbox: Any) -> None:
    client = _client("10.9.2.1")
    answers = {client.post(f"/p/{tenant.org.slug}/signup/",
                           {"name": "F", "email": "flood@example.com"})["Location"]
               for _n in range(signin_limits.PAIR.max_failures + 3)}
    assert len(answers) == 1
    assert len(mailoutbox) == signin_limits.PAIR.max_failures


def test_a_sign_in_link_works_once_and_a_get_does_not_spend_it(
        customer: Customer, mailoutbox: Any) -> None:
    client = _client("10.9.3.1")
    client.post(f"{customer.base}signin/link/", {"email": "carla@example.com"})
    client.post(f"{customer.base}signin/link/", {"email": "nobody@example.com"})
    path = link_in(mailoutbox[-1].body, "/link/")  # only the known address got one
    assert client.get(path).status_code == 200  # a mail scanner's visit
    assert client.post(path)["Location"] == customer.base
    assert COOKIE in client.cookies
    assert _client().post(path).status_code == 400


def test_a_password_reset_ends_the_old_sessions_and_old_links(
        customer: Customer, mailoutbox: Any) -> None:
    client = _client("10.9.4.1")
    client.post(f"{customer.base}reset/", {"email": "carla@example.com"})
    client.post(f"{customer.base}signin/link/", {"email": "carla@example.com"})
    reset_path = link_in(mailoutbox[-2].body, "/reset/")
    sign_in_path = link_in(mailoutbox[-1].body, "/link/")
    assert client.post(reset_path, {"password": "brand-new-password-9"}).status_code == 302
    assert customer.client.get(f"{customer.base}new/")["Location"].endswith("/signin/")
    assert _client().post(sign_in_path).status_code == 400
    assert _client().post(reset_path, {"password": "again-new-password-9"}).status_code == 400
    assert _client().post(f"{customer.base}signin/", {
        "email": "carla@example.com", "password": "brand-new-password-9"}).status_code == 302


def test_the_portal_session_never_opens_the_workspace_and_the_reverse(
        customer: Customer, admin_client: Client) -> None:
    # The customer's browser, also given the cookie on every path.
    customer.client.cookies[COOKIE]["path"] = "/"
    workspace = customer.client.get("/")
    assert workspace.status_code == 302 and "/login/" in workspace["Location"]
    assert customer.client.get("/settings/").status_code == 302
    # An agent signed in to the workspace is nobody on the portal.
    assert admin_client.get(f"{customer.base}new/")["Location"].endswith("/signin/")
    assert "My tickets" not in admin_client.get(customer.base).content.decode()


def test_sign_out_ends_the_session_server_side(customer: Customer) -> None:
    key = customer.client.cookies[COOKIE].value
    customer.client.post(f"{customer.base}signout/")
    stolen = _client()
    stolen.cookies[COOKIE] = key
    assert stolen.get(f"{customer.base}new/")["Location"].endswith("/signin/")


def test_an_unknown_organisation_or_a_closed_portal_is_not_found(tenant: Tenant) -> None:
    assert _client().get("/p/no-such-org/").status_code == 404
    assert _client().get(f"/p/{tenant.org.slug}/").status_code == 404  # no portal channel


def test_a_refused_new_password_does_not_spend_the_reset_link(
        customer: Customer, mailoutbox: Any) -> None:
    client = _client("10.9.5.1")
    client.post(f"{customer.base}reset/", {"email": "carla@example.com"})
    path = link_in(mailoutbox[-1].body, "/reset/")
    weak = client.post(path, {"password": "1234567890"})
    assert weak.status_code == 200 and "too common" in weak.content.decode()
    assert client.post(path, {"password": "brand-new-password-9"}).status_code == 302
