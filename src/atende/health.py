"""What a process says about itself and what it depends on, and what it answers while a
dependency is down.

- `/livez`: the process answers; touches nothing else (a restart is the cure only when
  this fails).
- `/readyz` (and `/healthz`, its older name): the database, Redis (when configured), the
  worker's heartbeat and the lag of the outboxes, each checked in its own thread under one
  deadline, so the answer comes within READY_DEADLINE whatever hangs. 503 when this
  process cannot serve (database or Redis down); a silent worker or a lagging outbox is
  reported ("degraded") without taking the web process out of a load balancer.
- `server_error`: Django's handler500. An unhandled database or Redis outage is a 503;
  under /api/ every server error is JSON in the API's error shape.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime
from typing import Any

import redis
from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.db.models import Min, OuterRef, Subquery
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.defaults import server_error as django_server_error

from atende.api_errors import error_body

logger = logging.getLogger(__name__)
READY_DEADLINE = 1.5  # seconds for the whole readiness answer
HEARTBEAT_STALE = 30.0  # seconds without a worker heartbeat: the worker is reported silent
LAG_WARN = 120.0  # seconds an outbox may lag before it is reported
# Exceptions that mean "a dependency is down", not "a bug": answered 503.
OUTAGES: tuple[type[BaseException], ...] = (
    OperationalError, InterfaceError, redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError)
_checks = ThreadPoolExecutor(max_workers=8, thread_name_prefix="readiness")


def livez(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Every check's result by name: {"status": "ok" | …, "ms": …, …}."""
    checks: dict[str, Callable[[], dict[str, Any]]] = {
        "database": _database, "worker": _worker, "outbox": _outbox}
    if settings.REDIS_URL:
        checks["redis"] = _redis
    started = time.monotonic()
    futures = {name: _checks.submit(_timed, check) for name, check in checks.items()}
    results: dict[str, dict[str, Any]] = {}
    for name, future in futures.items():
        left = max(0.0, started + READY_DEADLINE - time.monotonic())
        try:
            results[name] = future.result(timeout=left)
        except FutureTimeout:
            results[name] = {"status": "timeout",
                             "ms": round((time.monotonic() - started) * 1000)}
    serving = all(results[name]["status"] == "ok" for name in ("database", "redis")
                  if name in results)
    everything = all(result["status"] == "ok" for result in results.values())
    status = "ok" if everything else "degraded" if serving else "unavailable"
    return JsonResponse({"status": status, "checks": results}, status=200 if serving else 503)


def _timed(check: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    started = time.monotonic()
    try:
        result = check()
    except Exception as exc:
        result = {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:300]}
    finally:
        connections.close_all()  # this thread's connections go back to the pool
    result["ms"] = round((time.monotonic() - started) * 1000)
    return result


def _database() -> dict[str, Any]:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"status": "ok"}


def _redis() -> dict[str, Any]:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1.0,
                                  socket_connect_timeout=1.0)
    try:
        client.ping()
    finally:
        client.close()
    return {"status": "ok"}


def _worker() -> dict[str, Any]:
    from atende.jobs import HUEY, last_heartbeat

    if HUEY.immediate:  # tasks run in the process that enqueues them: no worker needed
        return {"status": "ok", "immediate": True}
    beat = last_heartbeat()
    if beat is None:
        return {"status": "missing"}
    age = max(0.0, time.time() - beat)
    return {"status": "ok" if age < HEARTBEAT_STALE else "silent", "age_s": round(age, 1)}


def _outbox() -> dict[str, Any]:
    """How late the oldest due webhook delivery is, and how long the oldest inbound event
    still to process has waited (both read through indexes: due deliveries by state and
    time, pending events per channel)."""
    from atende.channels.models import Channel, InboundEvent, InboundStatus
    from atende.webhooks.models import DeliveryState, WebhookDelivery

    now = timezone.now()
    due = WebhookDelivery.objects.filter(
        state__in=[DeliveryState.PENDING, DeliveryState.RETRYING], next_attempt_at__lte=now,
    ).aggregate(oldest=Min("next_attempt_at"))["oldest"]
    oldest_event = InboundEvent.objects.filter(
        channel=OuterRef("pk"), status=InboundStatus.RECEIVED, error="",
    ).order_by("received_at").values("received_at")[:1]
    waiting = min((at for at in Channel.objects.annotate(oldest=Subquery(oldest_event))
                   .values_list("oldest", flat=True) if at is not None), default=None)
    lags = {"webhooks_lag_s": _age(now, due), "inbound_lag_s": _age(now, waiting)}
    return {"status": "ok" if max(lags.values()) < LAG_WARN else "lagging", **lags}


def _age(now: datetime, then: datetime | None) -> float:
    return round(max(0.0, (now - then).total_seconds()), 1) if then else 0.0


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: Django calls it while handling the exception, which says which."""
    exc = sys.exc_info()[1]
    outage = isinstance(exc, OUTAGES)
    if request.path.startswith("/api/"):
        if outage:
            return JsonResponse(error_body("unavailable", _(
                "The service is temporarily unavailable. Try again shortly.")), status=503,
                headers={"Retry-After": "5"})
        return JsonResponse(error_body("server_error", _("An unexpected error occurred.")),
                            status=500)
    if outage:
        return HttpResponse(_("The service is temporarily unavailable. Try again shortly."),
                            status=503, content_type="text/plain; charset=utf-8",
                            headers={"Retry-After": "5"})
    return django_server_error(request)
