"""The availability switch in the top bar feeds automatic assignment (CORE-15)."""

from __future__ import annotations

import pytest
from django.test import Client

from atende.tenancy.models import Membership, Presence
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


def test_the_top_bar_shows_and_changes_the_agents_availability(
        admin_client: Client, tenant: Tenant) -> None:
    page = admin_client.get("/").content.decode()
    assert 'id="presence-switch"' in page
    assert '<option value="offline" selected>' in page

    assert admin_client.post("/presence/", {"presence": "online"}).status_code == 200
    membership = Membership.objects.get(organization=tenant.org, user=tenant.admin)
    assert membership.presence == Presence.ONLINE
    assert '<option value="online" selected>' in admin_client.get("/").content.decode()
