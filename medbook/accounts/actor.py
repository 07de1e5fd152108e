"""Resolve the actor once per request: the user, the organisation chosen in the session, the address."""

import ipaddress
import re
import uuid
from typing import cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from medbook.accounts.models import Membership, User
from medbook.core.logs import request_id_var
from medbook.core.tenancy import SESSION_ORG_KEY, Actor, ActorRequest

REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"
CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class SignedInRequest(ActorRequest):
    """A request to a page behind login_required: its user is a User, never anonymous."""

    user: User


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from. Behind a trusted reverse proxy (TRUSTED_PROXIES) the client is
    the last address in X-Forwarded-For that is not one of the trusted proxies; a client cannot forge it,
    because every hop it claims in front of the proxies is ignored."""
    remote = request.META.get("REMOTE_ADDR") or None
    trusted = set(getattr(settings, "TRUSTED_PROXIES", ()))
    if remote is None or remote not in trusted:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote  # a malformed header: keep the proxy's address rather than a made-up one
    return remote


def request_id() -> str:
    """A new id for the request, made by the server: a client never chooses what the audit log calls it."""
    return uuid.uuid4().hex


def client_request_id(request: HttpRequest) -> str:
    """The client's own X-Request-ID when it is 1 to 64 of [A-Za-z0-9._-], else "" (kept only beside ours)."""
    given = request.META.get(REQUEST_ID_HEADER, "")
    return given if CLIENT_REQUEST_ID.fullmatch(given) else ""


def memberships_of(user) -> tuple[Membership, ...]:
    """The user's active memberships, with their organisations, in name order."""
    return tuple(
        Membership.objects.filter(user=user, is_active=True)
        .select_related("organization", "organization__institution", "organization__partner")
        .order_by("organization__name")
    )


def actor_for(user, organization_id=None, **context) -> Actor:
    """The actor of `user` acting for the organisation (by default their first), as a request resolves it."""
    if user is None or not user.is_authenticated:
        return Actor(user=None, **context)
    memberships = memberships_of(user)
    current = next((m for m in memberships if m.organization_id == organization_id), None)
    if current is None and memberships:
        current = memberships[0]
    return Actor(user=user, membership=current, memberships=memberships, **context)


def resolve_actor(request: ActorRequest) -> Actor:
    """Build the actor from the session's user and chosen organisation and the request's origin."""
    context = {
        "client_ip": client_ip(request),
        "request_id": request.request_id,
        "client_request_id": getattr(request, "client_request_id", ""),
    }
    user = getattr(request, "user", None)
    chosen = request.session.get(SESSION_ORG_KEY) if user is not None and user.is_authenticated else None
    return actor_for(user, chosen, **context)


class ActorMiddleware:
    """Attach request.actor, resolved lazily once per request, and work in the institution's time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: ActorRequest) -> HttpResponse:
        request.request_id = request_id()
        request.client_request_id = client_request_id(request)
        request_id_var.set(request.request_id)  # on every log line of the request, Django's own included
        request.actor = cast(
            Actor, SimpleLazyObject(lambda: resolve_actor(request))
        )  # stands in for the Actor
        institution = request.actor.institution if request.user.is_authenticated else None
        if institution is not None:
            # Times are stored in UTC and shown in the institution's zone.
            timezone.activate(institution.time_zone)
        try:
            response = self.get_response(request)
        finally:
            timezone.deactivate()
        response["X-Request-ID"] = request.request_id  # for the access log and the client's support call
        return response
