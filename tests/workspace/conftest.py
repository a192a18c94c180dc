"""Workspace fixtures: signed-in agents and tickets opened through the real services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from atende.contacts.models import IdentityKind
from atende.contacts.services import find_or_create_contact
from atende.tenancy.models import Membership, Organization, Role, User
from atende.tickets.models import Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.create import open_ticket

PASSWORD = "a-long-password-1"


@pytest.fixture
def make_agent(db: Any) -> Callable[..., tuple[User, Client]]:
    def make(org: Organization, email: str, role: str = Role.AGENT, name: str = "",
             language: str = "en") -> tuple[User, Client]:
        user = User.objects.filter(email=email).first() or User.objects.create_user(
            email, PASSWORD, name=name)
        Membership.objects.create(organization=org, user=user, role=role)
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.force_login(user)
        return user, client

    return make



@pytest.fixture
def make_ticket(db: Any) -> Callable[..., Ticket]:
    counter = {"n": 0}

    def make(org: Organization, subject: str = "", text: str = "Hello", *,
             email: str = "", name: str = "Ana Souza", origin: str = "api",
             **extra: Any) -> Ticket:
        counter["n"] += 1
        contact = find_or_create_contact(
            org, IdentityKind.EMAIL, email or f"c{counter['n']}@example.com", name)
        ticket, _message = open_ticket(
            organization=org, contact=contact, subject=subject or f"Ticket {counter['n']}",
            description=text, actor=Actor(label="tests"), origin=origin, **extra)
        return ticket

    return make
