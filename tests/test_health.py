"""Liveness needs nothing; readiness reports each dependency within its deadline; a
database outage under /api/ is a JSON 503, any other server error a JSON 500."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client

from atende import health, jobs
from tests.conftest import ApiClient

pytestmark = pytest.mark.django_db


def test_liveness_touches_no_database(client: Client,
                                      django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        response = client.get("/livez")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readiness_reports_every_check_quickly(client: Client, settings: Any) -> None:
    started = time.monotonic()
    response = client.get("/readyz")
    elapsed = time.monotonic() - started
    body = response.json()
    assert response.status_code == 200, body
    expected = {"database", "worker", "outbox"} | ({"redis"} if settings.REDIS_URL else set())
    assert set(body["checks"]) == expected
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["outbox"].get("inbound_lag_s") == 0.0, body
    assert elapsed < 2.0
    assert client.get("/healthz").json()["checks"].keys() == body["checks"].keys()


def test_readiness_reports_a_silent_worker_without_failing(
        client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs.HUEY, "immediate", False)  # the real queue store
    jobs.HUEY.put(jobs.HEARTBEAT_KEY, time.time() - 120)
    body = client.get("/readyz").json()
    assert body["checks"]["worker"]["status"] == "silent"
    assert body["status"] == "degraded"
    jobs.HUEY.put(jobs.HEARTBEAT_KEY, time.time())
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["worker"]["status"] == "ok"


def test_readiness_is_503_when_the_database_fails(
        client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    def down() -> dict[str, Any]:
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "_database", down)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["error"] == "OperationalError: connection refused"


def test_readiness_answers_within_its_deadline_when_a_check_hangs(
        client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "_outbox", lambda: time.sleep(3) or {"status": "ok"})
    started = time.monotonic()
    body = client.get("/readyz").json()
    assert time.monotonic() - started < health.READY_DEADLINE + 0.5
    assert body["checks"]["outbox"]["status"] == "timeout"


def test_api_answers_json_503_when_the_database_is_down(
        api: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from atende.tickets import api as tickets_api

    def down(*_args: Any, **_kwargs: Any) -> Any:
        raise OperationalError("the connection pool timed out")

    monkeypatch.setattr(tickets_api.selectors, "tickets_page", down)
    api.client.raise_request_exception = False
    response = api.get("/api/v1/tickets")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "unavailable"


def test_api_answers_json_500_for_a_bug(api: ApiClient,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from atende.tickets import api as tickets_api

    def bug(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(tickets_api.selectors, "tickets_page", bug)
    api.client.raise_request_exception = False
    response = api.get("/api/v1/tickets")
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "server_error",
                                         "message": "An unexpected error occurred."}}
