"""What a partner's user may book ("Book to partner", P-11): only authorised services at authorised
locations of active partnerships, narrowed by institution, location, specialty, physician and service."""

from dataclasses import dataclass, field

from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet
from django.utils.translation import gettext as _

from medbook.core.errors import NotPermitted
from medbook.core.ids import parse_id
from medbook.core.terms import PartnerTerms
from medbook.institutions.models import Institution, Location, Physician, Service
from medbook.partners.access import bookable_partnerships, terms_of
from medbook.partners.models import Partnership


@dataclass(frozen=True)
class Offer:
    """One bookable calendar: a physician giving a service at a location of a partner institution.

    `checked` is set only here, by `bookable_offers` and `offer_for`, after every partner rule held: only
    then does the offer carry the partner's terms (an offer built elsewhere is checked again by its user).
    """

    partnership: Partnership
    location: Location
    physician: Physician
    service: Service
    checked: bool = field(default=False, compare=False)

    @property
    def institution(self) -> Institution:
        return self.partnership.institution

    def terms(self) -> PartnerTerms | None:
        """The terms this offer was checked under (for its location, service and physician), or None."""
        if not self.checked:
            return None
        return terms_of(
            self.partnership,
            location_id=self.location.pk,
            service_id=self.service.pk,
            physician_id=self.physician.pk,
            _authorised=True,
        )


def _meetings(partnerships: QuerySet | list[int]) -> QuerySet:
    """The rule of what a partner may book (P-4, P-9), as rows: every (service, physician) pair of the
    partnerships' authorised, active services, with the partnership and an authorised, active location
    where the physician gives that service (`partnership_pk`, `location_pk`). The list of offers and the
    check of one offer both read this one rule."""
    return Service.physicians.through.objects.filter(
        service__partnerships__in=partnerships,
        service__is_active=True,
        service__institution=F("service__partnerships__institution"),
        physician__is_active=True,
        service__locations__is_active=True,
        service__locations__partnerships=F("service__partnerships"),
        service__locations__physicians=F("physician"),
    ).annotate(partnership_pk=F("service__partnerships"), location_pk=F("service__locations"))


def bookable_offers(*, actor) -> list[Offer]:
    """Every calendar the actor may book: authorised, active location × service × physician (P-4, P-9).

    Three queries however many partnerships and calendars: the partnerships, their active locations, and
    every (partnership, location, service, physician) that meets at an authorised location.
    """
    partnerships = list(
        bookable_partnerships(actor=actor).prefetch_related(
            Prefetch("locations", queryset=Location.objects.filter(is_active=True).order_by("name", "pk"))
        )
    )
    if not partnerships:
        return []
    meetings = _meetings([p.pk for p in partnerships])
    found: dict[tuple[int, int], list[tuple[Service, Physician]]] = {}
    for row in meetings.select_related("service", "physician"):
        key = (row.partnership_pk, row.location_pk)  # type: ignore[attr-defined]  # annotated
        found.setdefault(key, []).append((row.service, row.physician))
    offers: list[Offer] = []
    for partnership in partnerships:
        institution = partnership.institution
        for location in partnership.locations.all():
            pairs = found.get((partnership.pk, location.pk), [])
            for service, physician in sorted(
                pairs, key=lambda pair: (pair[0].name, pair[0].pk, pair[1].full_name, pair[1].pk)
            ):
                for item in (location, service, physician):
                    item.institution = institution  # read once, with the partnership
                offers.append(Offer(partnership, location, physician, service, checked=True))
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


def service_names(offers: list[Offer]) -> list[str]:
    """The names of the services among the offers, each once, in order: the same service of several
    institutions (by its name) is one choice of the first free time (issue 23)."""
    return sorted({o.service.name for o in offers}, key=lambda name: (name.casefold(), name))


def of_service(offers: list[Offer], name: str) -> list[Offer]:
    """The offers of the service of this name, at every institution, location and physician among them."""
    return [o for o in offers if o.service.name == name]


def offer_for(*, actor, location_id, physician_id, service_id) -> Offer:
    """The one offer the posted ids name; a bad id is 404, anything the actor may not book 403.

    The same rule as `bookable_offers` (`_meetings`), read for this offer only after the GTC gate, as
    single-row reads by unique keys that PostgreSQL plans in a fraction of a millisecond (the list's
    ten-table join, or an eight-table one, took it 5 to 30 ms to plan and 0.5 ms to run): the (service,
    physician) pair, both active, where the physician gives that service at the active location; the
    partnership the actor may book now with the service's institution, authorising both the service and
    the location (with its institution and channel); the location by its key. `test_single_offer.py` holds
    the two readings equal.
    """
    location_pk, physician_pk, service_pk = (
        parse_id(location_id),
        parse_id(physician_id),
        parse_id(service_id),
    )
    partnerships = bookable_partnerships(actor=actor)
    pair = (
        Service.physicians.through.objects.filter(
            service_id=service_pk,
            physician_id=physician_pk,
            service__is_active=True,
            physician__is_active=True,
        )
        .filter(
            Exists(
                Service.locations.through.objects.filter(
                    service_id=service_pk, location_id=location_pk, location__is_active=True
                )
            ),
            Exists(
                Physician.locations.through.objects.filter(physician_id=physician_pk, location_id=location_pk)
            ),
        )
        .select_related("service", "physician")
        .first()
    )
    partnership = location = None
    if pair is not None:
        partnership = (
            partnerships.select_related(None)
            .select_related("institution", "channel")
            .order_by()
            .filter(
                Exists(
                    Partnership.services.through.objects.filter(
                        partnership_id=OuterRef("pk"), service_id=service_pk
                    )
                ),
                Exists(
                    Partnership.locations.through.objects.filter(
                        partnership_id=OuterRef("pk"), location_id=location_pk
                    )
                ),
                institution_id=pair.service.institution_id,
            )
            .first()
        )
    if partnership is not None:
        location = Location.objects.filter(pk=location_pk).first()
    if pair is None or partnership is None or location is None:
        raise NotPermitted(
            _("Your organisation may not book this service with this physician at this location.")
        )
    partnership.partner = actor.partner  # the partnership is the actor's partner's (`bookable_partnerships`)
    for item in (location, pair.service, pair.physician):
        item.institution = partnership.institution  # read once, with the partnership
    return Offer(partnership, location, pair.physician, pair.service, checked=True)
