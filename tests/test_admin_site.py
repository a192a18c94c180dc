"""/admin/ is for platform operators (superusers), behind the workspace's sign-in limits."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from atende.tenancy import signin_limits
from atende.tenancy.models import User

pytestmark = pytest.mark.django_db
PASSWORD = "operator-password-9"


@pytest.fixture
def operator() -> User:
    return User.objects.create_superuser("ops@example.com", PASSWORD)


def admin_sign_in(client: Client, email: str, password: str) -> Any:
    return client.post("/admin/login/?next=/admin/",
                       {"username": email, "password": password, "next": "/admin/"})


def test_an_operator_signs_in_to_the_admin(operator: User) -> None:
    client = Client()
    response = admin_sign_in(client, operator.email, PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_wrong_admin_passwords_are_limited(operator: User) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(signin_limits.PAIR.max_failures):
        assert admin_sign_in(client, operator.email, "wrong-password-1").status_code == 200
    blocked = admin_sign_in(client, operator.email, PASSWORD)
    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.content.decode()
    assert "_auth_user_id" not in client.session


def test_admin_failures_count_on_the_workspace_sign_in_too(operator: User) -> None:
    """One set of counts: switching doors does not buy more guesses."""
    client = Client()
    for _ in range(signin_limits.PAIR.max_failures):
        admin_sign_in(client, operator.email, "wrong-password-1")
    response = client.post("/login/", {"username": operator.email, "password": PASSWORD})
    assert response.status_code == 429


def test_staff_who_are_not_superusers_have_no_admin() -> None:
    User.objects.create_user("staff@example.com", PASSWORD, is_staff=True)
    client = Client()
    response = admin_sign_in(client, "staff@example.com", PASSWORD)
    assert response.status_code == 200  # the form again, no session
    assert "_auth_user_id" not in client.session
    client.force_login(User.objects.get(email="staff@example.com"))
    assert client.get("/admin/").status_code == 302
