"""A portal channel for `tenant`, and a customer who signed up through the pages (the
verification link read from the sent mail)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from atende.channels.models import Channel
from atende.connectors.portal.channels import create_portal_channel
from atende.connectors.portal.models import CustomerAccount
from tests.conftest import Tenant

PASSWORD = "a-long-portal-password-1"


def link_in(body: str, fragment: str) -> str:
    """The path of the first link in a mail body that contains `fragment`."""
    url = next(word for word in body.split() if fragment in word and "://" in word)
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


@dataclass
class Customer:
    client: Client
    account: CustomerAccount
    base: str  # "/p/<slug>/"


def sign_up(org_slug: str, email: str, mailoutbox: Any, name: str = "Carla Dias",
            client: Client | None = None) -> Customer:
    client = client or Client(HTTP_ACCEPT_LANGUAGE="en")
    base = f"/p/{org_slug}/"
    sent = len(mailoutbox)
    response = client.post(f"{base}signup/", {"name": name, "email": email})
    assert response.status_code == 302 and response["Location"] == f"{base}sent/"
    path = link_in(mailoutbox[sent].body, "/verify/")
    assert client.get(path).status_code == 200
    done = client.post(path, {"password": PASSWORD})
    assert done.status_code == 302, done.content.decode()
    account = CustomerAccount.objects.get(email=email.lower(), organization__slug=org_slug)
    return Customer(client, account, base)


@pytest.fixture
def portal(tenant: Tenant) -> Channel:
    return create_portal_channel(tenant.org, name="Portal", service=tenant.service)


@pytest.fixture
def customer(tenant: Tenant, portal: Channel, mailoutbox: Any) -> Customer:
    return sign_up(tenant.org.slug, "carla@example.com", mailoutbox)
