"""FHIR's answers, in one place for every interaction of this server: JSON in `application/fhir+json`, an
OperationOutcome for every refusal (`fhir_view`, the one mapping of the domain's refusals to HTTP statuses),
405 for what the CapabilityStatement does not declare (`interactions`), and searchset Bundles."""

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from pydantic import ValidationError as PydanticValidationError

from medbook.api.access import bearer_of, token_actor
from medbook.api.fhir.search import BadRequest, Search
from medbook.core.errors import Conflict, DomainError, HoldUnknown, NotPermitted, TooManyRequests
from medbook.core.tenancy import ActorRequest

FHIR_JSON = "application/fhir+json"


class Invalid(DomainError):
    """A request FHIR cannot carry out as asked (422 OperationOutcome)."""


def json_answer(data: dict, status: int = 200, **headers) -> HttpResponse:
    response = HttpResponse(json.dumps(data, default=_encode), status=status, content_type=FHIR_JSON)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _encode(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value))


def issue_outcome(code: str, message, severity: str = "error") -> dict:
    """An OperationOutcome resource with one issue."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": str(message)}],
    }


def outcome(status: int, code: str, message, severity: str = "error", **headers) -> HttpResponse:
    """An OperationOutcome with one issue, as the answer."""
    return json_answer(issue_outcome(code, message, severity), status, **headers)


def fhir_view(public: bool = False) -> Callable:
    """Authenticate with the token (unless `public`) and turn every refusal into an OperationOutcome."""

    def decorator(view: Callable) -> Callable:
        @csrf_exempt
        def wrapper(request: ActorRequest, *args, **kwargs) -> HttpResponse:
            try:
                if not public and token_actor(request, bearer_of(request)) is None:
                    return outcome(
                        401, "login", _("A valid API token is required."), WWW_Authenticate="Bearer"
                    )
                return view(request, *args, **kwargs)
            except Http404:
                return outcome(404, "not-found", _("Not found."))
            except TooManyRequests as error:
                return outcome(429, "throttled", error.message, Retry_After=str(error.retry_after or 60))
            except (NotPermitted, PermissionDenied) as error:
                return outcome(
                    403, "forbidden", getattr(error, "message", _("You do not have permission to do this."))
                )
            except HoldUnknown as error:  # a held Appointment's id is its hold's token: unknown is 404
                return outcome(404, "not-found", error.message)
            except Conflict as error:  # a taken slot, or what the present state refuses: as the JSON API
                return outcome(409, "conflict", error.message)
            except BadRequest as error:
                return outcome(400, "invalid", error.message)
            except DomainError as error:
                return outcome(422, "processing", error.message)
            except OverflowError:
                return outcome(400, "invalid", _("A date is out of range."))
            except PydanticValidationError as error:
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
                return outcome(422, "invalid", problems)

        return wrapper

    return decorator


def not_supported_answer(allowed: list[str]) -> HttpResponse:
    return outcome(
        405,
        "not-supported",
        _(
            "This server does not support this interaction; its CapabilityStatement (metadata) says which it does."
        ),
        Allow=", ".join(allowed),
    )


def interactions(**handlers: Callable) -> Callable:
    """One URL's interactions by HTTP method (HEAD as GET): any other method, or an instance id that names
    no instance but a history or an operation (`_history`, `$op`), is a 405 OperationOutcome."""
    allowed = sorted({*handlers, *(["HEAD"] if "GET" in handlers else [])})

    @csrf_exempt
    def view(request: ActorRequest, *args, **kwargs) -> HttpResponse:
        handler = handlers.get("GET" if request.method == "HEAD" else str(request.method))
        if handler is None or str(kwargs.get("pk", "")).startswith(("_", "$")):
            return not_supported_answer(allowed)
        return handler(request, *args, **kwargs)

    return view


@csrf_exempt
def not_supported(request: ActorRequest, *args, **kwargs) -> HttpResponse:
    """A history, an operation or a system-level interaction this server does not declare: 405."""
    return not_supported_answer([])


@csrf_exempt
def unknown(request: ActorRequest) -> HttpResponse:
    return outcome(404, "not-found", _("This server has no such resource type."))


def base_url(request: ActorRequest) -> str:
    return request.build_absolute_uri("/fhir/R4/")


def bundle(
    request: ActorRequest,
    search: Search,
    resources: list[dict],
    *,
    more: bool,
    total: int | None = None,
    extra: list[dict] | None = None,
) -> HttpResponse:
    """A searchset Bundle of one page, with `self` (the parameters applied) and, when there is more, `next`;
    `total` when the search counts its matches, and `extra` resources in `outcome` mode (an
    OperationOutcome with information about the search)."""
    base = base_url(request)

    def link(start: int) -> str:
        return f"{request.build_absolute_uri(search.path)}?{urlencode(search.query(start))}"

    links = [{"relation": "self", "url": link(search.offset)}]
    if more:
        links.append({"relation": "next", "url": link(search.offset + search.count)})
    found = _searchset(base, resources, total=total, extra=extra)
    return json_answer({**found, "link": links, "entry": found.pop("entry")})


def _searchset(base: str, resources: list[dict], *, total: int | None, extra: list[dict] | None) -> dict:
    entries = [
        {"fullUrl": f"{base}{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
        for r in resources
    ]
    entries += [{"resource": r, "search": {"mode": "outcome"}} for r in extra or []]
    found: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if total is not None:
        found["total"] = total
    return {**found, "entry": entries}


def operation_result(
    request: ActorRequest, resource: dict, *, extra: list[dict] | None = None
) -> HttpResponse:
    """An operation's answer as IHE scheduling gives it: a searchset Bundle of the one resource it is about
    (and `extra` resources in `outcome` mode), without links: it is no search to page or repeat."""
    return json_answer(_searchset(base_url(request), [resource], total=1, extra=extra))


def page(
    request: ActorRequest,
    search: Search,
    items: list,
    build: Callable[[Any], dict],
    *,
    counted: bool = False,
) -> HttpResponse:
    """The search's page of `items`, each shown by `build`; `counted`: the Bundle says how many match."""
    window = items[search.offset : search.offset + search.count + 1]
    return bundle(
        request,
        search,
        [build(x) for x in window[: search.count]],
        more=len(window) > search.count,
        total=len(items) if counted else None,
    )
