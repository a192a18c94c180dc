"""Shared fixtures: organisations, agents, API clients, real-server checks."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from atende.tenancy.api_keys import generate_api_key
from atende.tenancy.models import ApiKey, Membership, Organization, Role, Service, User

REQUIRE_SERVICES = os.environ.get("ATENDE_REQUIRE_SERVICES") == "1"


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_server(name: str, host: str, port: int) -> None:
    """Skip (or fail, under ATENDE_REQUIRE_SERVICES=1) when a real server is missing."""
    if port_open(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (ATENDE_REQUIRE_SERVICES=1)")
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _isolated_media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True, scope="session")
def _redis_keys_per_test_process() -> None:
    """pytest-xdist's processes each have their own test database, so their row ids
    collide: keys built from ids (a channel's drain flag, ...) must not be shared through
    Redis, or one process's flag holds back another's drain."""
    from django.conf import settings
    from django.test.signals import clear_cache_handlers

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    default = settings.CACHES["default"]
    if worker and "redis" in str(default["BACKEND"]).lower():
        default["KEY_PREFIX"] = f"{default.get('KEY_PREFIX', '')}-{worker}"
        clear_cache_handlers(setting="CACHES")  # caches made before this are dropped


@pytest.fixture(autouse=True)
def _fresh_cache(settings: Any) -> Iterator[None]:
    from django.core.cache import cache

    # Only the per-process memory cache: clearing Redis would flush a database other runs
    # (and their task queues) share. Keys there are unique per run (prefix, row ids).
    if "LocMemCache" in settings.CACHES["default"]["BACKEND"]:
        cache.clear()
    yield


@dataclass
class Tenant:
    org: Organization
    admin: User
    service: Service
    key: ApiKey
    raw_key: str
    client: ApiClient


class ApiClient:
    """Django's test client with a Bearer key and JSON helpers."""

    def __init__(self, raw_key: str, language: str = "en") -> None:
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {raw_key}",
                             HTTP_ACCEPT_LANGUAGE=language)

    def _call(self, method: str, path: str, data: Any = None, **extra: Any) -> Any:
        fn = getattr(self.client, method)
        if data is not None and method != "get":
            return fn(path, data=json.dumps(data), content_type="application/json", **extra)
        return fn(path, data=data, **extra)

    def get(self, path: str, params: Any = None, **extra: Any) -> Any:
        return self._call("get", path, params, **extra)

    def post(self, path: str, data: Any = None, **extra: Any) -> Any:
        return self._call("post", path, data, **extra)

    def patch(self, path: str, data: Any = None, **extra: Any) -> Any:
        return self._call("patch", path, data, **extra)

    def delete(self, path: str, data: Any = None, **extra: Any) -> Any:
        return self._call("delete", path, data, **extra)


@pytest.fixture
def make_tenant(db: Any) -> Callable[..., Tenant]:
    counter = {"n": 0}

    def make(name: str | None = None) -> Tenant:
        counter["n"] += 1
        n = counter["n"]
        slug = f"org-{n}-{os.getpid()}"
        org = Organization.objects.create(name=name or f"Org {n}", slug=slug)
        admin = User.objects.create_user(f"admin{n}@{slug}.test", "pw-not-used-123")
        Membership.objects.create(organization=org, user=admin, role=Role.ADMIN)
        service = Service.objects.create(organization=org, name="Suporte")
        key, raw = generate_api_key(org, "tests")
        return Tenant(org, admin, service, key, raw, ApiClient(raw))

    return make


@pytest.fixture
def tenant(make_tenant: Callable[..., Tenant]) -> Tenant:
    return make_tenant("Acme")


@pytest.fixture
def other_tenant(make_tenant: Callable[..., Tenant]) -> Tenant:
    return make_tenant("Globex")


@pytest.fixture
def api(tenant: Tenant) -> ApiClient:
    return tenant.client


@pytest.fixture
def admin_client(tenant: Tenant) -> Client:
    """`tenant`'s administrator signed in to the workspace, in English (replaces
    pytest-django's fixture of the same name)."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(tenant.admin)
    return client


@pytest.fixture
def ssrf_guard(settings: Any) -> None:
    """The SSRF guard as in production (the suite turns it off for its servers on
    127.0.0.1 with ATENDE_ALLOW_PRIVATE_WEBHOOKS)."""
    settings.ALLOW_PRIVATE_WEBHOOKS = False
    settings.ALLOWED_PRIVATE_NETWORKS = []
