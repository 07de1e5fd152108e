"""Who is acting, for which organisation: the actor resolved once per request, and tenant-scoped reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest

from medbook.core.ids import parse_id
from medbook.core.roles import OrgKind

SESSION_ORG_KEY = "acting_organization_id"
M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Actor:
    """The user, the organisation they act for, their membership in it, and where the request came from."""

    user: Any | None
    membership: Any | None = None  # an accounts.Membership (core imports no app)
    memberships: tuple[Any, ...] = field(default_factory=tuple)
    client_ip: str | None = None
    request_id: str = ""
    token_id: int | None = None

    @property
    def organization(self) -> Any | None:
        return self.membership.organization if self.membership else None

    @property
    def institution(self) -> Any | None:
        """The institution acted for, or None when acting for a partner or nothing."""
        org = self.organization
        if org is None or org.kind != OrgKind.INSTITUTION:
            return None
        return org.institution

    @property
    def partner(self) -> Any | None:
        """The partner acted for, or None when acting for an institution or nothing."""
        org = self.organization
        if org is None or org.kind != OrgKind.PARTNER:
            return None
        return org.partner

    @property
    def role(self) -> str | None:
        return self.membership.role if self.membership else None

    @property
    def is_operator(self) -> bool:
        return bool(self.user and self.user.is_authenticated and self.user.is_superuser)


SYSTEM = Actor(user=None)  # the platform itself (the worker, demo data): no user, no organisation


def actor_context(request) -> dict:
    """Expose the actor to templates (the header shows whom the user acts for)."""
    return {"actor": getattr(request, "actor", None)}


def scoped(model_or_qs, actor: Actor | None) -> QuerySet:
    """Narrow a queryset of tenant data to the institution the actor acts for."""
    qs = model_or_qs.all() if isinstance(model_or_qs, QuerySet) else model_or_qs._default_manager.all()
    institution = actor.institution if actor is not None else None
    if institution is None:
        return qs.none()
    path = getattr(qs.model, "tenant_path", "institution")
    return qs.filter(**{path: institution})


def get_for_actor(model_or_qs: type[M] | QuerySet[M], actor: Actor | None, pk: object) -> M:
    """Fetch one tenant object of the actor's institution; anything else (or a bad id) is 404."""
    obj = scoped(model_or_qs, actor).filter(pk=parse_id(pk)).first()
    if obj is None:
        raise Http404()
    return obj


class ActorRequest(HttpRequest):
    """A request as the pages see it: the actor resolved by the middleware, its id, and htmx's details."""

    actor: Actor
    request_id: str
    htmx: Any
