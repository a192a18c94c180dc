"""An API key issued by an agent acts with that agent's permissions of now (CORE-10)."""

from __future__ import annotations

import pytest

from atende.channels.models import Channel, ChannelKind
from atende.tenancy.api_keys import generate_api_key
from atende.tenancy.models import AccessProfile, Membership, Permission, Role, User
from tests.conftest import ApiClient, Tenant

pytestmark = pytest.mark.django_db


def _issuer(tenant: Tenant, permissions: list[str]) -> tuple[AccessProfile, str]:
    user = User.objects.create_user("issuer@example.com", None)
    profile = AccessProfile.objects.create(organization=tenant.org, name="issuer",
                                           permissions=permissions)
    Membership.objects.create(organization=tenant.org, user=user, role=Role.AGENT,
                              access_profile=profile)
    _key, raw = generate_api_key(tenant.org, "issued", created_by_id=user.pk)
    return profile, raw


def test_the_refusal_names_the_missing_permission_in_the_callers_language(
        tenant: Tenant) -> None:
    channel = Channel.objects.create(organization=tenant.org, kind=ChannelKind.API, name="x")
    profile, raw = _issuer(tenant, [Permission.GENERAL_SETTINGS])

    response = ApiClient(raw, language="pt-br").post(f"/api/v1/channels/{channel.pk}/keys")
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "forbidden",
        "message": "O atendente que emitiu esta chave de API não tem a permissão "
                   "\"Chaves de API\"."}

    profile.permissions = [Permission.GENERAL_SETTINGS, Permission.API_KEYS]
    profile.save()
    assert ApiClient(raw).post(f"/api/v1/channels/{channel.pk}/keys").status_code == 201


def test_the_live_stream_needs_an_issuer_who_sees_every_ticket(tenant: Tenant) -> None:
    _profile, raw = _issuer(tenant, [Permission.API_KEYS])
    response = ApiClient(raw).get("/realtime/stream")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
