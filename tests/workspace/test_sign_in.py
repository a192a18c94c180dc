"""Sign-in, rate limiting, sign-out, the language and the organisation switches."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from atende.tenancy import signin_limits
from atende.tenancy.access import SESSION_ORG_KEY
from atende.tenancy.models import Membership, Role, SignInCounter, User
from tests.fakes.processes import free_port

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-password-1"


@pytest.fixture
def agent(tenant: Any) -> User:
    # A fresh address per test: on the scaled profile the failure counters live in Redis,
    # shared by every test and run.
    email = f"Maria-{uuid.uuid4().hex[:8]}@Example.com"
    user = User.objects.create_user(email, PASSWORD, name="Maria")
    Membership.objects.create(organization=tenant.org, user=user, role=Role.AGENT)
    return user


def sign_in(client: Client, email: str, password: str, **extra: Any) -> Any:
    return client.post("/login/", {"username": email, "password": password}, **extra)


def test_agent_signs_in_with_email_in_any_case_and_reaches_the_queue(agent: User) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = client.get("/login/")
    assert page.status_code == 200 and "Sign in to Atende" in page.content.decode()
    response = sign_in(client, agent.email.upper(), PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    queue = client.get("/")
    assert queue.status_code == 200
    assert "Maria" in queue.content.decode()


def test_anonymous_queue_goes_to_sign_in() -> None:
    response = Client().get("/?view=mine")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/")


def test_sign_in_page_is_portuguese_by_default() -> None:
    page = Client().get("/login/").content.decode()
    assert "Entrar no Atende" in page


def test_wrong_password_is_refused_with_a_message(agent: User) -> None:
    response = sign_in(Client(HTTP_ACCEPT_LANGUAGE="en"), agent.email, "nope-nope-1")
    assert response.status_code == 200
    assert "correct" in response.content.decode()


def test_repeated_failures_are_limited_per_address_and_email(agent: User) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(signin_limits.PAIR.max_failures):
        assert sign_in(client, agent.email, "wrong-password-1").status_code == 200
    blocked = sign_in(client, agent.email, PASSWORD)
    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.content.decode()
    assert "_auth_user_id" not in client.session
    # Another address is not locked out by this one's failures.
    other = sign_in(Client(REMOTE_ADDR="10.0.0.9"), agent.email, PASSWORD)
    assert other.status_code == 302


def test_success_clears_the_failure_count(agent: User) -> None:
    client = Client()
    for _ in range(signin_limits.PAIR.max_failures - 1):
        sign_in(client, agent.email, "wrong-password-1")
    assert sign_in(client, agent.email, PASSWORD).status_code == 302
    assert not signin_limits.is_blocked("127.0.0.1", agent.email)


def test_one_account_is_limited_across_addresses(agent: User) -> None:
    """Guessing one account's password from many machines: the account's own count."""
    for n in range(signin_limits.ACCOUNT.max_failures):
        client = Client(REMOTE_ADDR=f"10.1.{n}.7")
        assert sign_in(client, agent.email, "wrong-password-1").status_code == 200
    blocked = sign_in(Client(REMOTE_ADDR="10.2.0.1", HTTP_ACCEPT_LANGUAGE="en"),
                      agent.email, PASSWORD)
    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.content.decode()
    # A window, not a lock for ever: once it has passed the owner signs in.
    SignInCounter.objects.update(window_ends=timezone.now() - timedelta(seconds=1))
    assert sign_in(Client(REMOTE_ADDR="10.2.0.1"), agent.email, PASSWORD).status_code == 302


def test_a_password_reset_lets_the_owner_past_the_accounts_count(agent: User,
                                                                 mailoutbox: Any) -> None:
    for n in range(signin_limits.ACCOUNT.max_failures):
        sign_in(Client(REMOTE_ADDR=f"10.3.{n}.7"), agent.email, "wrong-password-1")
    owner = Client(REMOTE_ADDR="10.4.0.1")
    assert sign_in(owner, agent.email, PASSWORD).status_code == 429
    owner.post("/password-reset/", {"email": agent.email})
    link = next(line for line in mailoutbox[0].body.splitlines() if "/password-reset/" in line)
    form = owner.get("/" + link.split("://", 1)[1].split("/", 1)[1], follow=True)
    owner.post(form.redirect_chain[-1][0], {"new_password1": "brand-new-secret-9",
                                            "new_password2": "brand-new-secret-9"})
    assert sign_in(owner, agent.email, "brand-new-secret-9").status_code == 302


def test_one_address_is_limited_across_accounts(agent: User) -> None:
    """Password spraying: a few guesses at many accounts from one address."""
    sprayer = "203.0.113.9"
    for n in range(signin_limits.ADDRESS.max_failures):
        email = f"someone-{n}@example.com"  # unknown accounts count as much as real ones
        assert sign_in(Client(REMOTE_ADDR=sprayer), email, "Summer2026!").status_code == 200
    assert sign_in(Client(REMOTE_ADDR=sprayer), agent.email, PASSWORD).status_code == 429
    # The account itself is not locked: its owner elsewhere signs in.
    assert sign_in(Client(REMOTE_ADDR="198.51.100.4"), agent.email, PASSWORD).status_code == 302


def test_a_refusal_reads_the_same_for_real_and_unknown_accounts(agent: User) -> None:
    pages = []
    for email in (agent.email, "nobody-here@example.com"):
        client = Client(REMOTE_ADDR="192.0.2.77", HTTP_ACCEPT_LANGUAGE="en")
        for _ in range(signin_limits.PAIR.max_failures):
            sign_in(client, email, "wrong-password-1")
        blocked = sign_in(client, email, "wrong-password-1")
        assert blocked.status_code == 429
        text = blocked.content.decode()
        pages.append(text[text.index("Too many"):text.index("Too many") + 120])
    assert pages[0] == pages[1]


def test_sign_out_needs_post_and_ends_the_session(agent: User) -> None:
    client = Client()
    client.force_login(agent)
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_language_switch_sets_the_language(agent: User) -> None:
    client = Client()
    client.force_login(agent)
    client.post("/language/", {"language": "en", "next": "/"})
    assert "All open" in client.get("/").content.decode()
    client.post("/language/", {"language": "pt-br", "next": "/"})
    assert "Todos abertos" in client.get("/").content.decode()


def test_agent_in_two_organisations_switches_but_not_into_a_foreign_one(
    agent: User, make_tenant: Any, make_ticket: Any
) -> None:
    second, foreign = make_tenant("Second"), make_tenant("Foreign")
    Membership.objects.create(organization=second.org, user=agent, role=Role.AGENT
                              ).services.add(second.service)
    make_ticket(second.org, "Only in second", service=second.service)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(agent)
    assert "Only in second" not in client.get("/").content.decode()
    client.post("/organization/", {"organization": second.org.pk})
    assert client.session[SESSION_ORG_KEY] == second.org.pk
    assert "Only in second" in client.get("/").content.decode()
    client.post("/organization/", {"organization": foreign.org.pk})
    assert client.session[SESSION_ORG_KEY] == second.org.pk
    for odd in ("x", "²", "9" * 40):  # no organisation: the switch is ignored
        assert client.post("/organization/", {"organization": odd}).status_code == 302
    assert client.session[SESSION_ORG_KEY] == second.org.pk


def test_password_reset_by_email_sets_a_new_password_once(agent: User, mailoutbox: Any) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert "Reset your password" in client.get("/password-reset/").content.decode()
    response = client.post("/password-reset/", {"email": agent.email.lower()})
    assert response["Location"] == "/password-reset/sent/"
    [mail] = mailoutbox
    assert mail.to == [agent.email]
    link = next(line for line in mail.body.splitlines() if "/password-reset/" in line)
    path = link.split("://", 1)[1].split("/", 1)[1]
    form = client.get("/" + path, follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(form.redirect_chain[-1][0], {"new_password1": "brand-new-secret-9",
                                                    "new_password2": "brand-new-secret-9"})
    assert done["Location"] == "/password-reset/done/"
    assert sign_in(Client(), agent.email, "brand-new-secret-9").status_code == 302
    again = Client(HTTP_ACCEPT_LANGUAGE="en").get("/" + path, follow=True)
    assert "This link no longer works" in again.content.decode()


def test_password_reset_for_an_unknown_address_reveals_nothing(mailoutbox: Any) -> None:
    response = Client().post("/password-reset/", {"email": "nobody@example.com"})
    assert response["Location"] == "/password-reset/sent/"
    assert mailoutbox == []


def test_password_reset_mail_goes_through_a_real_smtp_server(agent: User, settings: Any) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandler

    received: list[Any] = []

    class Collect(MessageHandler):
        def handle_message(self, message: Any) -> None:
            received.append(message)

    port = free_port()
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.MAILERS = {"default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "use_tls": False}}}
        Client().post("/password-reset/", {"email": agent.email})
    finally:
        controller.stop()
    [mail] = received
    assert mail["To"] == agent.email
    assert "/password-reset/" in mail.get_payload(decode=True).decode()


def test_password_reset_requests_are_limited_without_revealing_it(
    agent: User, mailoutbox: Any
) -> None:
    client = Client()
    for _ in range(signin_limits.PAIR.max_failures + 2):
        response = client.post("/password-reset/", {"email": agent.email})
        assert response["Location"] == "/password-reset/sent/"
    assert len(mailoutbox) == signin_limits.PAIR.max_failures
