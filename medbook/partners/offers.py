"""What a partner's user may book ("Book to partner", P-11): only authorised services at authorised
locations of active partnerships, narrowed by institution, location, specialty, physician and service."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from medbook.core.errors import NotPermitted
from medbook.core.ids import parse_id
from medbook.institutions.models import Institution, Location, Physician, Service
from medbook.partners.access import bookable_partnerships
from medbook.partners.models import Partnership


@dataclass(frozen=True)
class Offer:
    """One bookable calendar: a physician giving a service at a location of a partner institution."""

    partnership: Partnership
    location: Location
    physician: Physician
    service: Service

    @property
    def institution(self) -> Institution:
        return self.partnership.institution


def bookable_offers(*, actor) -> list[Offer]:
    """Every calendar the actor may book: authorised, active location × service × physician (P-4, P-9)."""
    offers: list[Offer] = []
    for partnership in bookable_partnerships(actor=actor):
        locations = list(partnership.locations.filter(is_active=True).order_by("name"))
        services = list(
            partnership.services.filter(is_active=True, institution_id=partnership.institution_id)
            .prefetch_related("locations", "physicians")
            .order_by("name")
        )
        for location in locations:
            for service in services:
                if location not in service.locations.all():
                    continue
                physicians = [
                    p
                    for p in service.physicians.filter(is_active=True, locations=location).order_by(
                        "full_name"
                    )
                ]
                offers.extend(Offer(partnership, location, p, service) for p in physicians)
    return offers


def narrow(offers: list[Offer], **chosen) -> list[Offer]:
    """Keep the offers matching every chosen value (institution, location, specialty, physician, service)."""
    keys = {
        "institution": lambda o: o.partnership.institution_id,
        "location": lambda o: o.location.pk,
        "specialty": lambda o: o.physician.specialty,
        "physician": lambda o: o.physician.pk,
        "service": lambda o: o.service.pk,
    }
    for name, value in chosen.items():
        if value not in (None, ""):
            offers = [o for o in offers if keys[name](o) == value]
    return offers


def offer_for(*, actor, location_id, physician_id, service_id) -> Offer:
    """The one offer the posted ids name; a bad id is 404, anything the actor may not book 403."""
    ids = (parse_id(location_id), parse_id(physician_id), parse_id(service_id))
    for offer in bookable_offers(actor=actor):
        if (offer.location.pk, offer.physician.pk, offer.service.pk) == ids:
            return offer
    raise NotPermitted(_("Your organisation may not book this service with this physician at this location."))
