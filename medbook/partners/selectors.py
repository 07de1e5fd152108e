"""Reads of the partner module, narrowed to what the actor may see, and the partner booking rule (P-4, P-9)."""

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook.accounts.models import Membership
from medbook.core.errors import DomainError
from medbook.core.permissions import partnership_is_active
from medbook.core.tenancy import get_for_actor, scoped
from medbook.institutions.models import Service
from medbook.partners.models import GTCAcceptance, GTCVersion, Partner, Partnership
from medbook.scheduling.models import Booking, TrafficChannel


def institution_partnerships(*, actor) -> QuerySet[Partnership]:
    """The partnerships of the institution the actor acts for, live ones first."""
    return (
        scoped(Partnership, actor)
        .select_related("partner", "channel")
        .prefetch_related("locations")
        .order_by("partner__name", "-created_at")
    )


def institution_partnership(*, actor, pk) -> Partnership:
    """One partnership of the actor's institution; another institution's (or a bad id) is 404."""
    return get_for_actor(institution_partnerships(actor=actor), actor, pk)


def partner_partnerships(*, actor) -> QuerySet[Partnership]:
    """The partnerships of the partner the actor acts for."""
    if actor is None or actor.partner is None:
        return Partnership.objects.none()
    return (
        Partnership.objects.filter(partner=actor.partner)
        .select_related("institution")
        .prefetch_related("locations", "services")
        .order_by("institution__name", "-created_at")
    )


def partner_partnership(*, actor, pk) -> Partnership:
    """One partnership of the actor's partner; anything else is 404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404() from None
    partnership = partner_partnerships(actor=actor).filter(pk=pk).first()
    if partnership is None:
        raise Http404()
    return partnership


def partner_is_under_contract(partner: Partner) -> bool:
    """Tell whether the partner has registered: an active admin and an accepted GTC (P-3)."""
    has_admin = Membership.objects.filter(
        organization=partner, role=Membership.Role.PARTNER_ADMIN, is_active=True, user__is_active=True
    ).exists()
    return has_admin and GTCAcceptance.objects.filter(partner=partner).exists()


def partner_admins(partner: Partner) -> QuerySet[Membership]:
    """The partner's active administrators (who receive its notifications)."""
    return Membership.objects.filter(
        organization=partner, role=Membership.Role.PARTNER_ADMIN, is_active=True, user__is_active=True
    ).select_related("user")


def gtc_accepted(partner: Partner, version: GTCVersion | None = None) -> bool:
    """Tell whether the partner has accepted the given (by default the current) GTC version."""
    version = version or GTCVersion.current()
    if version is None:
        return True  # nothing published yet: nothing to accept
    return GTCAcceptance.objects.filter(partner=partner, version=version).exists()


def future_partner_bookings(partnership: Partnership) -> QuerySet[Booking]:
    """The partner's booked appointments at the institution that have not started yet."""
    return Booking.objects.filter(
        institution_id=partnership.institution_id,
        partner_id=partnership.partner_id,
        status=Booking.Status.BOOKED,
        starts_at__gt=timezone.now(),
    ).select_related("service", "location", "physician")


@dataclass(frozen=True)
class MatrixColumn:
    """A column of the Traffic Channels matrix: a built-in channel or a partner's."""

    channel: TrafficChannel
    partnership: Partnership | None
    service_ids: frozenset[int]


def channel_matrix(*, actor) -> tuple[list[Service], list[MatrixColumn]]:
    """The institution's services (rows) and channels (columns), the partners' columns last (P-9)."""
    institution = actor.institution
    services = list(Service.objects.filter(institution=institution).order_by("-is_active", "name"))
    builtin = TrafficChannel.objects.filter(institution=institution, partner__isnull=True)
    columns = [MatrixColumn(channel, None, frozenset()) for channel in builtin.order_by("position", "name")]
    live = (
        scoped(Partnership, actor)
        .filter(status__in=Partnership.LIVE_STATUSES)
        .select_related("partner", "channel")
        .prefetch_related(Prefetch("services", queryset=Service.objects.only("pk")))
        .order_by("partner__name")
    )
    for partnership in live:
        ids = frozenset(service.pk for service in partnership.services.all())
        columns.append(MatrixColumn(partnership.channel, partnership, ids))
    return services, columns


def partner_booking_check(*, partner, institution, location, service) -> Partnership:
    """Refuse a partner booking unless the partnership is active (P-3, P-8), the location (P-4) and the
    service (P-9) authorised and the current GTC accepted; return the partnership (its rules to capture)."""
    partnership = partner_partnership_check(partner=partner, institution=institution)
    if location.institution_id != institution.pk or not partnership.locations.filter(pk=location.pk).exists():
        raise DomainError(_("The partner may not book at this location."), field="location")
    if service.institution_id != institution.pk or not partnership.services.filter(pk=service.pk).exists():
        raise DomainError(_("The partner may not book this service."), field="service")
    return partnership


def partner_partnership_check(*, partner, institution) -> Partnership:
    """Refuse unless the partner's latest partnership with the institution is active and the current GTC
    accepted (P-3, P-8); return it."""
    partnership = (
        Partnership.objects.filter(partner_id=partner.pk, institution_id=institution.pk)
        .select_related("institution", "partner")
        .order_by("-created_at")
        .first()
    )
    if partnership is None:
        raise DomainError(_("This partner has no partnership with the institution."))
    if partnership.status in Partnership.PENDING_STATUSES:
        raise DomainError(_("The partnership is pending: the partner cannot book until it is active."))
    if not partnership_is_active(partnership):
        raise DomainError(_("The partnership has ended or was declined: the partner cannot book."))
    if not gtc_accepted(partnership.partner):
        raise DomainError(_("The partner must accept the current General Terms and Conditions first."))
    return partnership


def institution_admins(institution_id: int) -> QuerySet[Membership]:
    """The institution's active administrators (who receive its partner notifications, N-4)."""
    return Membership.objects.filter(
        organization_id=institution_id, role=Membership.Role.ADMIN, is_active=True, user__is_active=True
    ).select_related("user")
