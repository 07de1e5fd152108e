"""The API's one error shape, and every exception mapped to it with its status code.

{"error": {"status": 422, "code": "invalid", "message": "…", "fields": {"starts_at": ["…"]}}}
"""

from django.core.exceptions import PermissionDenied
from django.db.utils import InterfaceError, OperationalError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from medbook.core.errors import Conflict, DomainError, NotPermitted, TooManyRequests
from medbook.core.middleware import (
    DATABASE_RETRY_AFTER_SECONDS,
    database_unavailable,
    database_unavailable_message,
)


class ErrorBody(Schema):
    status: int
    code: str
    message: str
    fields: dict[str, list[str]] = {}


class ErrorOut(Schema):
    error: ErrorBody


# The statuses every operation may answer besides its success (declared on each in the OpenAPI schema):
# 429 (a quota or the rate limit) and 503 (the database cannot take it now) with Retry-After.
READ_ERRORS = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ErrorOut,
    429: ErrorOut,
    503: ErrorOut,
}
WRITE_ERRORS = {**READ_ERRORS, 409: ErrorOut}


def error_body(status: int, code: str, message, fields: dict | None = None) -> dict:
    return {"error": {"status": status, "code": code, "message": str(message), "fields": fields or {}}}


def install(api: NinjaAPI) -> None:
    """Register the handlers on the API."""

    def answer(request, status: int, code: str, message, fields=None, headers=None):
        response = api.create_response(request, error_body(status, code, message, fields), status=status)
        for name, value in (headers or {}).items():
            response[name] = value
        return response

    @api.exception_handler(DomainError)
    def domain(request, exc: DomainError):
        if isinstance(exc, TooManyRequests):
            headers = {"Retry-After": str(max(1, int(exc.retry_after or 60)))}
            return answer(request, 429, "too_many_requests", exc.message, headers=headers)
        if isinstance(exc, NotPermitted):
            return answer(request, 403, "forbidden", exc.message)
        fields = {exc.field: [str(exc.message)]} if exc.field else {}
        if isinstance(exc, Conflict):
            return answer(request, 409, "conflict", exc.message, fields)
        return answer(request, 422, "invalid", exc.message, fields)

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        return answer(request, 403, "forbidden", _("You do not have permission to do this."))

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return answer(request, 404, "not_found", _("Not found."))

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        response = answer(request, 401, "unauthenticated", _("A valid API token is required."))
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(Throttled)
    def throttled(request, exc: Throttled):
        wait = str(max(1, int(exc.wait or 1)))
        return answer(
            request,
            429,
            "too_many_requests",
            _("Too many requests: try again later."),
            headers={"Retry-After": wait},
        )

    @api.exception_handler(NinjaValidationError)
    def invalid(request, exc: NinjaValidationError):
        fields: dict[str, list[str]] = {}
        for error in exc.errors:
            location = [
                str(part)
                for part in error.get("loc", ())
                if part not in ("body", "query", "path", "header", "payload")
            ]
            fields.setdefault(".".join(location) or "request", []).append(str(error.get("msg", "")))
        return answer(request, 422, "invalid", _("The request is not valid."), fields)

    @api.exception_handler(OperationalError)
    @api.exception_handler(InterfaceError)
    def database_down(request, exc):
        # The same rule as pages and FHIR (medbook/core/middleware.py): the database cannot take it now.
        if not database_unavailable(exc):
            raise exc
        headers = {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
        return answer(request, 503, "unavailable", database_unavailable_message(), headers=headers)

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        return answer(request, exc.status_code, "error", str(exc))
