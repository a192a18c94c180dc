"""JSON errors for the REST API: `{"error": {"code", "message", "field"?}}` in the caller's
language (Accept-Language, through Django's LocaleMiddleware)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from atende.errors import DomainError

# The status of a DomainError by its code; any other code is the caller's input (400).
DOMAIN_STATUS = {"not_found": 404, "conflict": 409, "attachment_too_large": 413}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str = "",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.headers = headers or {}


class ErrorDetail(Schema):
    code: str
    message: str
    field: str | None = None
    details: list[dict[str, str]] | None = None


class ErrorOut(Schema):
    """The shape of `error_body`, for the endpoints' documented responses."""

    error: ErrorDetail


def error_body(code: str, message: str, field: str = "",
               details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    if details:
        error["details"] = details
    return {"error": error}


def _loc_to_field(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "path", "header",
                                               "form", "file", "data")]
    return ".".join(parts)


def _validation_message(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind in ("string_too_long",):
        return _("Use at most %(n)s characters.") % {"n": ctx.get("max_length")}
    if kind in ("string_too_short",):
        return _("Use at least %(n)s characters.") % {"n": ctx.get("min_length")}
    if kind in ("enum", "literal_error"):
        return _("Choose one of: %(choices)s.") % {"choices": ctx.get("expected", "")}
    if kind.startswith("int") or kind.startswith("float"):
        return _("Enter a number.")
    if kind.startswith("datetime") or kind.startswith("date"):
        return _("Enter a date and time in ISO 8601.")
    if kind.startswith("bool"):
        return _("Enter true or false.")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return _("Send a JSON object.")
    if kind == "json_invalid":
        return _("The body is not valid JSON.")
    return str(err.get("msg", _("Invalid value.")))


def install(api: NinjaAPI) -> None:
    def respond(request: HttpRequest, status: int, body: dict[str, Any],
                headers: dict[str, str] | None = None) -> HttpResponse:
        response = api.create_response(request, body, status=status)
        for k, v in (headers or {}).items():
            response[k] = v
        return response

    @api.exception_handler(NinjaValidationError)
    def validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        details = [
            {"field": _loc_to_field(e.get("loc", ())), "message": _validation_message(e)}
            for e in exc.errors
        ]
        first = details[0] if details else {"field": "", "message": _("Invalid request.")}
        return respond(request, 400, error_body("invalid", first["message"], first["field"],
                                                details))

    @api.exception_handler(AuthenticationError)
    def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return respond(request, 401, error_body("unauthorized", _("Missing or invalid API key.")),
                       {"WWW-Authenticate": "Bearer"})

    @api.exception_handler(ObjectDoesNotExist)
    def missing(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
        return respond(request, 404, error_body("not_found", _("Not found.")))

    @api.exception_handler(Http404)
    def missing_404(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, 404, error_body("not_found", _("Not found.")))

    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        status = DOMAIN_STATUS.get(exc.code, 400)
        return respond(request, status, error_body(exc.code, exc.message, exc.field))

    @api.exception_handler(DjangoValidationError)
    def django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        field = getattr(exc, "field", "") or ""
        return respond(request, 400, error_body("invalid", " ".join(exc.messages), field))

    @api.exception_handler(ApiError)
    def api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return respond(request, exc.status, error_body(exc.code, exc.message, exc.field),
                       exc.headers)

    # An id or number beyond what the database stores (e.g. /tickets/99999999999999999999):
    # SQLite's driver raises OverflowError, PostgreSQL a DataError.
    def out_of_range(request: HttpRequest) -> HttpResponse:
        return respond(request, 400, error_body("invalid", _("A number is out of range.")))

    @api.exception_handler(OverflowError)
    def overflow(request: HttpRequest, exc: OverflowError) -> HttpResponse:
        return out_of_range(request)

    @api.exception_handler(DataError)
    def data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
        return out_of_range(request)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400:  # ninja raises this for an unreadable body
            return respond(request, 400, error_body("invalid", _("The body is not valid JSON.")))
        return respond(request, exc.status_code, error_body("error", str(exc)))
