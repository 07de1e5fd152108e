"""The booking services as a partner's page or the API reaches them: the partner's terms resolved through
`medbook.partners.access` first, then the one booking service (staff actors go straight to it)."""

from medbook.partners.access import access_booking_terms, access_own_booking
from medbook.scheduling import services


def booking_create(*, actor, location, service, **kwargs):
    """Book as the actor; a partner's user under the terms access resolves for the location and service."""
    if actor.partner is not None:
        kwargs["terms"] = access_booking_terms(actor=actor, location=location, service=service)
    return services.booking_create(actor=actor, location=location, service=service, **kwargs)


def booking_move(*, actor, booking, starts_at):
    terms = None
    if actor.partner is not None:
        terms = access_own_booking(actor=actor, booking=booking, authorise_target=True)
    return services.booking_move(actor=actor, booking=booking, starts_at=starts_at, terms=terms)


def booking_cancel(*, actor, booking):
    terms = None
    if actor.partner is not None:
        terms = access_own_booking(actor=actor, booking=booking, authorise_target=False)
    return services.booking_cancel(actor=actor, booking=booking, terms=terms)


def booking_note_set(*, actor, booking, note):
    terms = None
    if actor.partner is not None:
        terms = access_own_booking(actor=actor, booking=booking, authorise_target=False)
    return services.booking_note_set(actor=actor, booking=booking, note=note, terms=terms)
