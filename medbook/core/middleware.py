"""Domain errors mapped to HTTP in one place: a clear message and a 4xx, never a 500.

A database that cannot take the request (its primary lost mid-failover, a connection that broke, a
read-only server that was the primary a moment ago) is answered 503 with Retry-After on pages, the JSON API
and FHIR alike (`database_unavailable` decides; docs/deployment-db.md).
"""

import sys

from django.core.signals import got_request_exception
from django.db.utils import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from medbook.core.errors import DomainError

# How long a client should wait before trying again while the database fails over (seconds).
DATABASE_RETRY_AFTER_SECONDS = 5


def database_unavailable(exception: BaseException) -> bool:
    """Whether the exception says the database cannot take the request now (a retry will do), as opposed to
    a fault of the request or the code: a lost or refused connection, or a server in read-only mode."""
    if isinstance(exception, InterfaceError):
        return True
    if not isinstance(exception, OperationalError):
        return False
    # OperationalError also covers what a retry cannot mend only in SQLite's "no such table" style faults;
    # on PostgreSQL every OperationalError is a connection or server state (read-only transaction, admin
    # shutdown, too many connections, lost connection).
    text = str(exception).lower()
    return "no such table" not in text and "no such column" not in text


def database_unavailable_message() -> str:
    return _("The service is briefly unavailable: please try again in a few seconds.")


class DomainErrorMiddleware:
    """Render a DomainError escaping a view as a page (or htmx fragment) with its status code."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception) -> HttpResponse | None:
        if database_unavailable(exception):
            return _database_unavailable_response(request)
        if isinstance(exception, DomainError):
            template = "core/error_fragment.html" if getattr(request, "htmx", False) else "core/error.html"
            response = render(request, template, {"message": exception.message}, status=exception.status_code)
            retry_after = getattr(exception, "retry_after", None)
            if retry_after is not None:
                response["Retry-After"] = str(max(1, int(retry_after)))
            return response
        return None


def _database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: the API's error shape, a FHIR OperationOutcome, or the error page."""
    message = database_unavailable_message()
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"error": {"status": 503, "code": "unavailable", "message": message, "fields": {}}}, status=503
        )
    elif request.path.startswith("/fhir/"):
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "transient", "diagnostics": message}],
        }
        response = JsonResponse(outcome, status=503, content_type="application/fhir+json")
    else:
        template = "core/error_fragment.html" if getattr(request, "htmx", False) else "core/error.html"
        response = render(request, template, {"message": message}, status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """The same 503 for a database error raised outside a view (a middleware reading the session's user):
    Django turns those into a 500 at the middleware that raised them, before DomainErrorMiddleware can see
    them, so the exception is noted on the request when Django reports it and the 500 is answered here, near
    the outside of the stack, as the view's would be."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, "_database_unavailable", False):
            return _database_unavailable_response(request)
        return response


def _note_database_unavailable(sender, request: HttpRequest | None = None, **kwargs) -> None:
    """got_request_exception is sent while the exception is being handled: note whether it is ours."""
    error = sys.exc_info()[1]
    if request is not None and error is not None and database_unavailable(error):
        request._database_unavailable = True  # type: ignore[attr-defined]  # for DatabaseUnavailableMiddleware


got_request_exception.connect(_note_database_unavailable, dispatch_uid="medbook-database-unavailable")


class NoStoreMiddleware:
    """Mark every answer of the JSON API and FHIR `Cache-Control: no-store` (errors and 401s included):
    they carry patients' and tenants' data that no browser or proxy cache may keep."""

    PREFIXES = ("/api/", "/fhir/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(self.PREFIXES):
            response["Cache-Control"] = "no-store"
            response.setdefault("Pragma", "no-cache")  # HTTP/1.0 caches
        return response
