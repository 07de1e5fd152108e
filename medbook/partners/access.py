"""Every partner rule, in Zulip's `access_*` style: may this partner act here, and on what terms.

A partner's user books only while its partnership is active (which needs the operator's verification of a
newly registered legal entity, P-14) and the current General Terms and Conditions
are accepted (P-3, P-8), only authorised services (P-9) at authorised locations (P-4), with the
"Can book to partner institution" permission (P-10), changes only its partner's bookings (P-13) and sees
the institution's patients only with patient-data access (P-7). Pages, the API and the services below all
ask here; the answer they carry down is a `PartnerTerms`.
"""

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from medbook.core.errors import DomainError, NotPermitted
from medbook.core.permissions import Perm, require
from medbook.core.tenancy import Actor
from medbook.core.terms import PartnerTerms
from medbook.partners.models import GTCAcceptance, GTCVersion, Partner, Partnership


def acting_partner(actor: Actor) -> Partner:
    """The partner the actor acts for; anyone else may not act as a partner."""
    if actor is None or actor.partner is None:
        raise NotPermitted()
    return actor.partner


def gtc_accepted(partner: Partner, version: GTCVersion | None = None) -> bool:
    """The GTC gate: whether the partner accepted the given (by default the current) GTC version.

    The current version and its acceptance are read in one query."""
    if version is not None:
        return GTCAcceptance.objects.filter(partner=partner, version=version).exists()
    accepted = GTCAcceptance.objects.filter(partner=partner, version=OuterRef("pk"))
    current = GTCVersion.published().annotate(accepted=Exists(accepted)).values_list("accepted", flat=True)
    found = list(current[:1])
    return not found or bool(found[0])  # nothing published yet: nothing to accept


def terms_of(
    partnership: Partnership,
    *,
    location_id=None,
    service_id=None,
    physician_id=None,
    _authorised: bool = False,
) -> PartnerTerms:
    """The partnership's terms as a booking captures them: the commission rule in force (P-5) and where
    the patient pays (P-6). The one place the commission capture is decided. Terms from here alone are
    not authorised: only the access functions below, after checking every rule, hand out terms the
    services accept."""
    enabled = partnership.commission_enabled
    return PartnerTerms(
        partnership_id=partnership.pk,
        partner_id=partnership.partner_id,
        partner_name=partnership.partner.name,
        institution_id=partnership.institution_id,
        channel_id=partnership.channel_id,
        commission_percent=partnership.commission_percent if enabled else None,
        commission_fixed=partnership.commission_fixed if enabled else None,
        paid_at_partner=partnership.paid_at_partner,
        patient_data_access=bool(partnership.patient_data_access),
        location_id=location_id,
        service_id=service_id,
        physician_id=physician_id,
        authorised=_authorised,
    )


def bookable_partnerships(*, actor: Actor) -> QuerySet[Partnership]:
    """The actor's partner's partnerships it may book under now (none while the current GTC is pending)."""
    require(actor, Perm.BOOK_FOR_PARTNER)
    if not gtc_accepted(acting_partner(actor)):
        return Partnership.objects.none()
    return (
        Partnership.objects.bookable()
        .filter(partner=actor.partner)
        .select_related("institution", "partner")
        .order_by("institution__name")
    )


def access_partnership(*, partner: Partner, institution_id: int, location=None, service=None) -> Partnership:
    """The partner's latest partnership with the institution if its partner may book under it (P-3, P-8),
    with the current GTC accepted; otherwise a refusal that says why. With a location and a service, the
    partnership is read with whether it authorises them (`access_partnership_target` decides)."""
    partnerships = Partnership.objects.filter(partner_id=partner.pk, institution_id=institution_id)
    if location is not None and service is not None:
        partnerships = partnerships.annotate(
            location_authorised=Exists(
                Partnership.locations.through.objects.filter(
                    partnership_id=OuterRef("pk"), location_id=location.pk
                )
            ),
            service_authorised=Exists(
                Partnership.services.through.objects.filter(
                    partnership_id=OuterRef("pk"), service_id=service.pk
                )
            ),
        )
    partnership = partnerships.select_related("institution", "partner").order_by("-created_at").first()
    if partnership is None:
        raise DomainError(_("This partner has no partnership with the institution."))
    if partnership.status == Partnership.Status.PENDING_VERIFICATION:
        raise DomainError(
            _(
                "The partner awaits verification by the platform operator: it cannot book until the"
                " company is verified."
            )
        )
    if partnership.is_pending:
        raise DomainError(_("The partnership is pending: the partner cannot book until it is active."))
    if not partnership.is_bookable:
        raise DomainError(_("The partnership has ended or was declined: the partner cannot book."))
    if not gtc_accepted(partnership.partner):
        raise DomainError(_("The partner must accept the current General Terms and Conditions first."))
    return partnership


def access_partnership_target(*, partner: Partner, location, service) -> Partnership:
    """The partnership under which the partner may book the service at the location; refuse an
    unauthorised location (P-4) or service (P-9)."""
    institution_id = location.institution_id
    partnership = access_partnership(
        partner=partner, institution_id=institution_id, location=location, service=service
    )
    if not partnership.location_authorised:  # type: ignore[attr-defined]  # annotated
        raise DomainError(_("The partner may not book at this location."), field="location")
    if service.institution_id != institution_id or not partnership.service_authorised:  # type: ignore[attr-defined]
        raise DomainError(_("The partner may not book this service."), field="service")
    return partnership


def access_booking_terms(*, actor: Actor, location, service) -> PartnerTerms:
    """The terms under which the actor's partner books the service at the location (P-3 … P-10)."""
    require(actor, Perm.BOOK_FOR_PARTNER)
    partnership = access_partnership_target(partner=acting_partner(actor), location=location, service=service)
    return terms_of(partnership, location_id=location.pk, service_id=service.pk, _authorised=True)


def access_own_booking(*, actor: Actor, booking, authorise_target: bool) -> PartnerTerms:
    """The terms under which the actor changes a booking of its partner (P-13): another partner's or the
    institution's booking is as if it did not exist; the partnership must still allow booking, and with
    `authorise_target` (a move) its location and service must still be authorised."""
    require(actor, Perm.BOOK_FOR_PARTNER)
    partner = acting_partner(actor)
    if booking.partner_id != partner.pk:
        raise Http404()
    if authorise_target:
        partnership = access_partnership_target(
            partner=partner, location=booking.location, service=booking.service
        )
        return terms_of(
            partnership, location_id=booking.location_id, service_id=booking.service_id, _authorised=True
        )
    partnership = access_partnership(partner=partner, institution_id=booking.institution_id)
    return terms_of(partnership, _authorised=True)


def may_see_patients(partnership: Partnership) -> bool:
    """Whether the partnership lets its partner search the institution's patients (P-7)."""
    return partnership.is_bookable and bool(partnership.patient_data_access)


def access_patient_data(*, actor: Actor, partnership: Partnership) -> PartnerTerms:
    """Refuse a search of the institution's patients unless the actor may book for a partner with
    patient-data access at this active partnership (P-7); return its terms."""
    require(actor, Perm.BOOK_FOR_PARTNER)
    if partnership.partner_id != acting_partner(actor).pk or not may_see_patients(partnership):
        raise NotPermitted(_("Your organisation has no access to this institution's patient data."))
    return terms_of(partnership, _authorised=True)
