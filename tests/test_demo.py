"""`atende demo`'s administrator is a tenant administrator like any other: everything in the
demo workspace, nothing in Django's admin (which shows every organisation)."""

from __future__ import annotations

import pytest
from django.test import Client

from atende.demo import create_demo
from atende.tenancy.models import Role, User

pytestmark = pytest.mark.django_db


def test_the_demo_admin_is_no_superuser_but_administers_the_workspace() -> None:
    login = create_demo("http://127.0.0.1:8000")
    admin = User.objects.get(email=login.email)
    assert not admin.is_superuser and not admin.is_staff
    assert admin.memberships.get().role == Role.ADMIN

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.login(email=login.email, password=login.password)
    assert client.get("/settings/").status_code == 200
    assert client.get("/").status_code == 200
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_running_the_demo_again_takes_back_an_earlier_superuser_flag() -> None:
    """A demo made by an earlier release made its administrator a superuser."""
    login = create_demo("http://127.0.0.1:8000")
    User.objects.filter(email=login.email).update(is_superuser=True, is_staff=True)
    create_demo("http://127.0.0.1:8000")
    admin = User.objects.get(email=login.email)
    assert not admin.is_superuser and not admin.is_staff


def test_the_demo_portal_customer_signs_in_and_sees_the_ticket_the_portal_opened(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from atende import cli

    monkeypatch.setattr(cli, "_migrate", lambda: None)  # the test database is migrated
    assert cli.main(["demo", "--host", "127.0.0.1", "--port", "8000"]) == 0
    lines = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())
    assert lines["Portal"] == "http://127.0.0.1:8000/p/demo/"
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/p/demo/signin/", {"email": lines["Portal customer e-mail"],
                                               "password": lines["Portal customer password"]})
    assert response.status_code == 302
    from atende.tickets.models import Ticket
    portal_tickets = Ticket.objects.filter(origin="portal")
    assert portal_tickets.exists()
    assert all(t.channel is not None and t.channel.kind == "portal" for t in portal_tickets)
    home = client.get("/p/demo/").content.decode()
    assert all(t.protocol in home for t in portal_tickets)
