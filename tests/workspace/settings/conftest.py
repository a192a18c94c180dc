"""Fixtures for the settings screens: a signed-in administrator of `tenant`."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import Tenant


@pytest.fixture
def admin_client(tenant: Tenant) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(tenant.admin)
    return client
