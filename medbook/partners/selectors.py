"""Reads of the partner module, narrowed to what the actor may see (the partner rules: `access`)."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from medbook.core.ids import parse_id
from medbook.core.tenancy import Actor, get_for_actor, scoped
from medbook.institutions.models import Service
from medbook.partners.models import PartnerClaim, PartnerIdentityChange, Partnership
from medbook.scheduling import online
from medbook.scheduling.models import Booking, TrafficChannel
from medbook.scheduling.patient_shown import ShownPatient, booking_patient, with_register_access


def institution_partnerships(*, actor: Actor) -> QuerySet[Partnership]:
    """The partnerships of the institution the actor acts for, live ones first."""
    return (
        scoped(Partnership, actor)
        .select_related("partner", "channel")
        .prefetch_related("locations")
        .order_by("partner__name", "-created_at")
    )


def institution_partnership(*, actor: Actor, pk) -> Partnership:
    """One partnership of the actor's institution; another institution's (or a bad id) is 404."""
    return get_for_actor(institution_partnerships(actor=actor), actor, pk)


# An institution's invitation that has not reached the partner's admins (pending registration through
# another contact, or a claim the operator has not accepted) is not theirs to see (P-14, issue 19): not on
# their pages, not in their webhooks.
NOT_YET_THE_PARTNERS = (Partnership.Status.PENDING_REGISTRATION, Partnership.Status.PENDING_VERIFICATION)


def partner_may_see(partnership: Partnership) -> bool:
    """Whether the partner's side is told of this partnership (its pages, API and webhook events)."""
    return partnership.status not in NOT_YET_THE_PARTNERS


def partner_partnerships(*, actor: Actor | None) -> QuerySet[Partnership]:
    """The partnerships of the partner the actor acts for, those it may see (`partner_may_see`)."""
    if actor is None or actor.partner is None:
        return Partnership.objects.none()
    return (
        Partnership.objects.filter(partner=actor.partner)
        .exclude(status__in=NOT_YET_THE_PARTNERS)
        .select_related("institution")
        .prefetch_related("locations", "services")
        .order_by("institution__name", "-created_at")
    )


def partner_partnership(*, actor: Actor, pk) -> Partnership:
    """One partnership of the actor's partner; anything else is 404."""
    partnership = partner_partnerships(actor=actor).filter(pk=parse_id(pk)).first()
    if partnership is None:
        raise Http404()
    return partnership


def partner_verified_admin(actor: Actor | None) -> bool:
    """Whether the actor administers a verified partner: only they may change its legal record (P-14)."""
    if actor is None or actor.partner is None:
        return False
    return actor.partner.is_verified and actor.role == "partner_admin"


def user_claims(user) -> QuerySet[PartnerClaim]:
    """The claims the user made to represent a partner, newest first (their own, nobody else's)."""
    if user is None or not user.is_authenticated:
        return PartnerClaim.objects.none()
    return (
        PartnerClaim.objects.filter(user=user)
        .select_related("partner", "partnership__institution")
        .order_by("-created_at", "-pk")
    )


def latest_identity_change(partner) -> PartnerIdentityChange | None:
    """The partner's latest request to change its identity that was not withdrawn (pending or decided)."""
    return (
        PartnerIdentityChange.objects.filter(partner=partner)
        .exclude(status=PartnerIdentityChange.Status.WITHDRAWN)
        .order_by("-requested_at", "-pk")
        .first()
    )


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


def channel_matrix(*, actor: Actor) -> tuple[list[Service], list[MatrixColumn]]:
    """The institution's services (rows) and channels (columns), the partners' columns last (P-9)."""
    institution = actor.institution
    services = list(Service.objects.filter(institution=institution).order_by("-is_active", "name"))
    builtin = TrafficChannel.objects.filter(institution=institution, partner__isnull=True)
    columns = [
        MatrixColumn(
            channel,
            None,
            online.online_service_ids(actor=actor) if channel.code == online.ONLINE else frozenset(),
        )
        for channel in builtin.order_by("position", "name")
    ]
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


def partner_bookings(actor: Actor | None) -> QuerySet[Booking]:
    """The bookings made through the partner the actor acts for, at institutions it may book at now, each
    annotated with whether its partnership grants patient-data access (`access.may_see_patients`, P-7):
    only then is the register's patient shown, else the one the partner entered (`patient_shown`)."""
    partner = actor.partner if actor is not None else None
    if partner is None:
        return Booking.objects.none()
    bookable = Partnership.objects.bookable().filter(partner_id=partner.pk)
    live = bookable.values("institution_id")
    register = bookable.filter(institution_id=OuterRef("institution_id"), patient_data_access=True)
    bookings = Booking.objects.filter(partner_id=partner.pk, institution_id__in=live).select_related(
        "institution", "patient", "service", "location", "physician", "booked_by"
    )
    return with_register_access(bookings, Exists(register))


def partner_booking_rows(bookings) -> list[tuple[Booking, ShownPatient]]:
    """The partner's bookings (of `partner_bookings`), each with its patient as the partner sees it."""
    return [(booking, booking_patient(booking)) for booking in bookings]
