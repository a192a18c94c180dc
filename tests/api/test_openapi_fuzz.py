"""Schemathesis walks every operation of our OpenAPI with generated input: no 5xx, and
responses conform to the documented schemas."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from atende.wsgi import application
from tests.conftest import Tenant

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def fuzz_tenant(make_tenant: Any) -> Tenant:
    t = make_tenant("Fuzz")
    # Something for the read and update operations to find.
    t.client.post("/api/v1/tickets", {"title": "seed", "requester_email": "s@example.com"})
    return t


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_never_fails_with_a_server_error(case: Any, fuzz_tenant: Tenant) -> None:
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {fuzz_tenant.raw_key}"}
    response = case.call()
    case.validate_response(
        response,
        checks=(not_a_server_error, status_code_conformance, response_schema_conformance),
    )
