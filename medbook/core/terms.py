"""A partner's terms at one institution, resolved by `medbook.partners.access` and carried into services.

The lower layers (patients, scheduling) cannot ask the partners app whether a partner may act; the partner
side resolves the terms through its one access function and passes them down, and the booking services
refuse a partner actor that comes without them, or with terms resolved for another target.
"""

from dataclasses import dataclass
from decimal import Decimal

from medbook.core.errors import NotPermitted
from medbook.core.tenancy import Actor


@dataclass(frozen=True)
class PartnerTerms:
    """What an active partnership lets its partner do at the institution, and what a booking captures.

    `location_id` and `service_id` are set when the access check authorised that location and service
    (P-4, P-9); they are None for changes that do not need them (a note, a cancellation). `physician_id` is
    set when the whole offer was checked (`medbook.partners.offers`): the physician gives the service at
    the location, all three active, so the booking service need not read those links again.
    """

    partnership_id: int
    partner_id: int
    partner_name: str
    institution_id: int
    channel_id: int
    commission_percent: Decimal | None
    commission_fixed: Decimal | None
    paid_at_partner: bool
    patient_data_access: bool
    location_id: int | None = None
    service_id: int | None = None
    physician_id: int | None = None
    # Set only by the access functions of `medbook.partners.access` after every partner rule held: terms
    # built any other way (for a capture, say) are refused by the services.
    authorised: bool = False


def require_terms(
    actor: Actor, terms: PartnerTerms | None, *, institution_id: int, location_id=None, service_id=None
) -> PartnerTerms:
    """Refuse a partner actor without terms, or with terms resolved for another partner or target."""
    partner = getattr(actor, "partner", None)
    if terms is None or not terms.authorised or partner is None or terms.partner_id != partner.pk:
        raise NotPermitted()
    if terms.institution_id != institution_id:
        raise NotPermitted()
    if location_id is not None and terms.location_id != location_id:
        raise NotPermitted()
    if service_id is not None and terms.service_id != service_id:
        raise NotPermitted()
    return terms
