"""The whole cast of the permission matrix: the root conftest's fixed cast, extended.

On top of `cast` (institutions A and B) and `partners` (P active at A, Q with no partnership) it adds the
operator, partner E whose partnership with A has ended, patient-data access for P, and one object of A (or
of P) for every kind of URL argument: bookings, working hours, leave, memberships and the secret tokens.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

from django.contrib.auth.tokens import default_token_generator
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from conftest import actor_of, local, next_weekday
from medbook.accounts.models import Membership
from medbook.accounts.services import membership_invitation_send
from medbook.institutions.tests.factories import MembershipFactory, ScheduleExceptionFactory, UserFactory
from medbook.notifications.models import OutboxMessage
from medbook.online import services as online_services
from medbook.online.tests.helpers import online_on
from medbook.partners.models import Partner, Partnership
from medbook.partners.services import contract as partner_services
from medbook.partners.services import feed as partner_bookings
from medbook.partners.services import registration as invitations
from medbook.partners.tests import services as scheduling_services
from medbook.partners.tests.factories import (
    TEN_PERCENT,
    gtc_accepted_by,
    partner_make,
    partner_member,
    partnership_make,
)
from medbook.reports.selectors import Period
from medbook.reports.services import statement_close
from medbook.scheduling.models import Booking, WorkingHours

# The actors, in the column order of the permission matrix.
ACTORS = (
    "anon",  # not logged in
    "operator",  # the platform operator: a superuser with no membership
    "a_admin",  # alice, admin of institution A
    "a_staff",  # bob, reception (staff) of A
    "b_admin",  # charlie, admin of institution B
    "p_admin",  # paula, admin of partner P (active at A, with patient-data access)
    "p_book",  # peter, P's user who may book ("can_book")
    "p_nobook",  # petra, P's user who may not book
    "q_admin",  # quentin, admin of partner Q (no partnership with A)
    "e_user",  # erin, admin of partner E (may book) whose partnership with A has ended
)


@dataclass
class Everyone:
    """Every actor of the matrix and the objects of A (or P) that URLs take."""

    cast: object  # the root conftest's Cast
    partners: object  # the root conftest's PartnerCast
    users: dict  # actor -> user (None for "anon")
    partner_e: object
    partnership_e: object
    booking_a: Booking  # reception's booking at A
    booking_p: Booking  # P's booking at A
    booking_e: Booking  # E's booking at A, made before the partnership ended (still booked)
    booking_ended: Booking  # reception's booking at A that ended two hours ago, attendance not recorded
    working_hours_a: WorkingHours
    exception_a: object  # a leave of A's physician
    membership_a_staff: Membership  # bob's membership of A
    membership_p_nobook: Membership  # petra's membership of P
    feed_token: str  # peter's secret iCalendar feed address
    register_token: str  # A's pending invitation of a new partner N
    reset_uid: str  # the set-password link of nina, a new user of A
    reset_token: str
    accept_token: str  # charlie's link to accept reception at A (he has an account)
    manage_token: str  # the patient's manage link of booking_a (issue 22)
    manage_token_p: str  # and of booking_p, a partner's booking the patient may confirm
    slot_day: object  # the day of the bookings and of the free slots
    closing_p: object  # A's closed statement of P for January 2020 (number 1)
    online_token: str = ""  # a patient's online booking at A waiting for its e-mailed code (its hold's token)

    def user(self, actor: str):
        return self.users[actor]


def everyone_make(cast, partners) -> Everyone:
    """Extend the fixed cast (build it with the `cast` and `partners` fixtures)."""
    a, location, physician, service = cast.institution_a, cast.location_a1, cast.physician_a, cast.service_a
    Partnership.objects.filter(pk=partners.partnership_p.pk).update(patient_data_access=True)
    partners.partnership_p.refresh_from_db()
    operator = UserFactory(
        email="olga@platform.test", full_name="Olga Operator", is_superuser=True, is_staff=True
    )

    # Partner E booked at A while the partnership was active; A then ended it, keeping the booking.
    e = partner_make("Ended Partners Bt.", "01-09-555555", "12345676-2-41", "erin@e.test")
    partnership_e = partnership_make(a, e, locations=[location], services=[service], **TEN_PERCENT)
    erin = UserFactory(email="erin@e.test", full_name="Erin Ended")
    partner_member(erin, e, Membership.Role.PARTNER_ADMIN, can_book=True)
    gtc_accepted_by(e, erin, partners.gtc)

    day = next_weekday(2)

    def book(user, hour):
        return scheduling_services.booking_create(
            actor=actor_of(user),
            location=location,
            physician=physician,
            service=service,
            patient=cast.patient_a,
            starts_at=local(day, hour),
        )

    booking_a, booking_p, booking_e = book(cast.bob, 9), book(partners.peter, 10), book(erin, 11)
    # Booked ahead like any other, then its time came and went (a booking service refuses the past).
    booking_ended = book(cast.bob, 12)
    ended = timezone.now() - timedelta(hours=2)
    Booking.objects.filter(pk=booking_ended.pk).update(
        starts_at=ended - (booking_ended.ends_at - booking_ended.starts_at), ends_at=ended
    )
    booking_ended.refresh_from_db()
    partner_services.partnership_end(
        actor=actor_of(cast.alice), partnership=partnership_e, cancel_future=False
    )
    partnership_e.refresh_from_db()

    # A new partner N that A invited and that has not registered yet: its registration link.
    n = partner_make(
        "Newcomer Kft.", "01-09-444444", "12345676-2-41", "nora@n.test", Partner.Verification.UNVERIFIED
    )
    pending = partnership_make(a, n, status=Partnership.Status.PENDING_REGISTRATION, locations=[location])
    register_url = invitations.invitation_issue(partnership=pending)
    # Nina, a new user of A, and her set-password link (she is no actor: a login would void the link).
    nina = UserFactory(email="nina@a.test", full_name="Nina New")
    MembershipFactory(user=nina, organization=a, role=Membership.Role.STAFF)
    # Charlie (B's admin, who has an account) asked to join A as reception: his link to accept.
    asked = Membership.objects.create(
        user=cast.charlie, organization=a, role=Membership.Role.STAFF, is_active=False
    )
    accept_url = membership_invitation_send(membership=asked)
    # A closed P's statement of January 2020.
    closing_p = statement_close(
        actor=actor_of(cast.alice),
        partner=partners.partner_p,
        period=Period(date(2020, 1, 1), date(2020, 1, 31), a.time_zone),
    )

    # A takes online bookings of its service (issue 22); a patient holds 15:30 while proving the address.
    online_on(a, service)
    online_token = online_services.online_request_start(
        actor=online_services.patient_actor(None),
        location=location,
        physician=physician,
        service=service,
        starts_at=local(day, 15, 30),
        details=online_services.PatientDetails("Olivia Online", date(1991, 5, 6), "olivia@example.test"),
    )

    return Everyone(
        cast=cast,
        partners=partners,
        users={
            "anon": None,
            "operator": operator,
            "a_admin": cast.alice,
            "a_staff": cast.bob,
            "b_admin": cast.charlie,
            "p_admin": partners.paula,
            "p_book": partners.peter,
            "p_nobook": partners.petra,
            "q_admin": partners.quentin,
            "e_user": erin,
        },
        partner_e=e,
        partnership_e=partnership_e,
        booking_a=booking_a,
        booking_p=booking_p,
        booking_e=booking_e,
        booking_ended=booking_ended,
        working_hours_a=WorkingHours.objects.filter(physician=physician).first(),
        exception_a=ScheduleExceptionFactory(physician=physician),
        membership_a_staff=Membership.objects.get(user=cast.bob, organization=a),
        membership_p_nobook=Membership.objects.get(user=partners.petra, organization=partners.partner_p),
        feed_token=partner_bookings.calendar_feed_renew(actor=actor_of(partners.peter))[1],
        register_token=urlsplit(register_url).path.rstrip("/").rsplit("/", 1)[-1],
        reset_uid=urlsafe_base64_encode(force_bytes(nina.pk)),
        reset_token=default_token_generator.make_token(nina),
        accept_token=urlsplit(accept_url).path.rstrip("/").rsplit("/", 1)[-1],
        slot_day=day,
        closing_p=closing_p,
        online_token=online_token,
        manage_token=_manage_token(booking_a),
        manage_token_p=_manage_token(booking_p),
    )


def _manage_token(booking: Booking) -> str:
    """The token of the manage link in the booking's confirmation e-mail to its patient (issue 22)."""
    message = OutboxMessage.objects.get(
        kind="patient_booking_made", reference=f"booking:{booking.pk}:patient"
    )
    return re.search(r"/appointment/([0-9a-f]+)/", message.text_body).group(1)
