"""Who is acting, for which organisation: resolved once per request, used by every query for tenant data."""

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from medbook.accounts.models import Membership, Organization

SESSION_ORG_KEY = "acting_organization_id"


@dataclass(frozen=True)
class Actor:
    """The user, the organisation they act for and their membership in it."""

    user: object | None
    membership: Membership | None = None
    memberships: tuple[Membership, ...] = field(default_factory=tuple)

    @property
    def organization(self) -> Organization | None:
        return self.membership.organization if self.membership else None

    @property
    def institution(self):
        """The institution acted for, or None when acting for a partner or nothing."""
        org = self.organization
        if org is None or org.kind != Organization.Kind.INSTITUTION:
            return None
        return org.institution

    @property
    def partner(self):
        """The partner acted for, or None when acting for an institution or nothing."""
        org = self.organization
        if org is None or org.kind != Organization.Kind.PARTNER:
            return None
        return org.partner

    @property
    def role(self) -> str | None:
        return self.membership.role if self.membership else None

    @property
    def is_operator(self) -> bool:
        return bool(self.user and self.user.is_authenticated and self.user.is_superuser)


def resolve_actor(request) -> Actor:
    """Build the actor from the session's user and chosen organisation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return Actor(user=None)
    memberships = tuple(
        Membership.objects.filter(user=user, is_active=True)
        .select_related("organization", "organization__institution")
        .order_by("organization__name")
    )
    chosen = request.session.get(SESSION_ORG_KEY)
    current = next((m for m in memberships if m.organization_id == chosen), None)
    if current is None and memberships:
        current = memberships[0]
    return Actor(user=user, membership=current, memberships=memberships)


class ActorMiddleware:
    """Attach request.actor, resolved lazily once per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.actor = SimpleLazyObject(lambda: resolve_actor(request))
        institution = request.actor.institution if request.user.is_authenticated else None
        if institution is not None:
            # Times are stored in UTC and shown in the institution's zone.
            timezone.activate(ZoneInfo(institution.time_zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def actor_context(request) -> dict:
    """Expose the actor to templates (the header shows whom the user acts for)."""
    return {"actor": getattr(request, "actor", None)}


def scoped(model_or_qs, actor) -> QuerySet:
    """Narrow a queryset of tenant data to the institution the actor acts for."""
    qs = model_or_qs.all() if isinstance(model_or_qs, QuerySet) else model_or_qs._default_manager.all()
    institution = actor.institution if actor is not None else None
    if institution is None:
        return qs.none()
    path = getattr(qs.model, "tenant_path", "institution")
    return qs.filter(**{path: institution})


def get_for_actor(model_or_qs, actor, pk) -> Model:
    """Fetch one tenant object of the actor's institution; anything else (or a bad id) is 404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404() from None
    obj = scoped(model_or_qs, actor).filter(pk=pk).first()
    if obj is None:
        raise Http404()
    return obj
