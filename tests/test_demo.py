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
