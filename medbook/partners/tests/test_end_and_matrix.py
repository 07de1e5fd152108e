"""P-8 (delete a partner), P-9 (the Traffic Channels matrix) and the partner booking rule (P-3, P-4, P-9)."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from medbook.audit.models import AuditEntry
from medbook.core.errors import DomainError
from medbook.core.timefmt import when
from medbook.institutions.tests.factories import ServiceFactory
from medbook.partners.access import access_partnership_target
from medbook.partners.models import Partnership
from medbook.partners.tests.factories import partnership_make
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db
MATRIX = reverse("partners:channel-list")


def partner_booking(cast, partnership, starts_at) -> Booking:
    """A booking the partner made (issue 4 books through the service; here the row is enough)."""
    return Booking.objects.create(
        institution=cast.institution_a,
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=30),
        channel=partnership.channel,
        partner=partnership.partner,
        price=cast.service_a.price,
        currency="HUF",
        commission_percent=partnership.commission_percent,
    )


def check(cast, partner, location=None, service=None):
    return access_partnership_target(
        partner=partner,
        location=location or cast.location_a1,
        service=service or cast.service_a,
    )


# -- the partner booking rule -------------------------------------------------------------------------


def test_p9_active_partner_may_book_an_authorised_service_at_an_authorised_location(cast, partners):
    assert check(cast, partners.partner_p) == partners.partnership_p


def test_p9_partner_cannot_book_an_unauthorised_service(cast, partners):
    other = ServiceFactory(institution=cast.institution_a, locations=[cast.location_a1])
    with pytest.raises(DomainError, match="may not book this service"):
        check(cast, partners.partner_p, service=other)


def test_p4_partner_cannot_book_at_an_unauthorised_location(cast, partners):
    with pytest.raises(DomainError, match="may not book at this location"):
        check(cast, partners.partner_p, location=cast.location_a2)


def test_p4_partner_cannot_book_another_institutions_location_or_service(cast, partners):
    with pytest.raises(DomainError):
        check(cast, partners.partner_p, location=cast.location_b)
    with pytest.raises(DomainError):
        check(cast, partners.partner_p, service=cast.service_b)


@pytest.mark.parametrize(
    "status", [Partnership.Status.PENDING_REGISTRATION, Partnership.Status.PENDING_APPROVAL]
)
def test_p3_pending_partnership_cannot_book(cast, partners, status):
    Partnership.objects.filter(pk=partners.partnership_p.pk).update(status=status)
    with pytest.raises(DomainError, match="pending"):
        check(cast, partners.partner_p)


def test_p3_partner_without_partnership_cannot_book(cast, partners):
    with pytest.raises(DomainError, match="no partnership"):
        check(cast, partners.partner_q)


# -- P-8: delete ----------------------------------------------------------------------------------------


@pytest.fixture
def bookings(cast, partners):
    now = timezone.now()
    past = partner_booking(cast, partners.partnership_p, now - timedelta(days=3))
    Booking.objects.filter(pk=past.pk).update(status=Booking.Status.COMPLETED)
    future = partner_booking(cast, partners.partnership_p, now + timedelta(days=3))
    own = Booking.objects.create(
        **{
            f.name: getattr(future, f.name)
            for f in Booking._meta.concrete_fields
            if f.name not in ("id", "partner", "starts_at", "ends_at", "created_at", "updated_at")
        },
        starts_at=now + timedelta(days=4),
        ends_at=now + timedelta(days=4, minutes=30),
    )
    return past, future, own


def test_p8_delete_asks_about_future_bookings(cast, partners, bookings, login):
    page = login(cast.alice).get(reverse("partners:partner-delete", args=[partners.partnership_p.pk]))
    content = page.content.decode()
    assert "The partner has 1 future booking at your institution." in content
    assert "Keep them" in content and "Cancel them and notify the partner" in content
    response = login(cast.alice).post(
        reverse("partners:partner-delete", args=[partners.partnership_p.pk]), {}
    )
    assert response.status_code == 422 and "This field is required." in response.content.decode()
    partners.partnership_p.refresh_from_db()
    assert partners.partnership_p.is_active


def test_p8_delete_keeping_future_bookings_ends_access_at_once(
    cast, partners, bookings, login, smtp_server, deliver_outbox
):
    past, future, own = bookings
    url = reverse("partners:partner-delete", args=[partners.partnership_p.pk])
    assert login(cast.alice).post(url, {"future_bookings": "keep"}).status_code == 302
    partnership = Partnership.objects.get(pk=partners.partnership_p.pk)
    assert partnership.status == Partnership.Status.ENDED and partnership.ended_at is not None
    assert not partnership.channel.is_active
    with pytest.raises(DomainError, match="ended"):
        check(cast, partners.partner_p)
    statuses = dict(Booking.objects.values_list("pk", "status"))
    assert statuses == {past.pk: "completed", future.pk: "booked", own.pk: "booked"}
    assert Booking.objects.get(pk=past.pk).commission_percent == partnership.commission_percent
    deliver_outbox()
    mail = next(m for m in smtp_server.messages if m["To"] == partners.paula.email)
    assert "has ended the partnership" in mail["Subject"]
    entry = AuditEntry.objects.get(action="partnership.end")
    assert entry.details["future_bookings"] == "kept"
    # Listed as ended, with no actions any more.
    listing = login(cast.alice).get(reverse("partners:partner-list")).content.decode()
    assert "Ended" in listing and reverse("partners:partner-edit", args=[partnership.pk]) not in listing


def test_p8_delete_cancelling_future_bookings_notifies_the_partner(
    cast, partners, bookings, login, smtp_server, deliver_outbox
):
    past, future, own = bookings
    url = reverse("partners:partner-delete", args=[partners.partnership_p.pk])
    response = login(cast.alice).post(url, {"future_bookings": "cancel"}, follow=True)
    assert "1 future bookings were cancelled" in response.content.decode()
    future.refresh_from_db()
    assert future.status == Booking.Status.CANCELLED and future.cancelled_at is not None
    assert Booking.objects.get(pk=past.pk).status == Booking.Status.COMPLETED
    assert Booking.objects.get(pk=own.pk).status == Booking.Status.BOOKED  # not the partner's
    deliver_outbox()
    mail = next(m for m in smtp_server.messages if m["To"] == partners.paula.email)
    body = mail.get_body(preferencelist=("plain",)).get_content()
    local_start = timezone.localtime(future.starts_at, ZoneInfo(cast.institution_a.time_zone))
    assert "These bookings were cancelled with it:" in body and cast.service_a.name in body
    # in the institution's time zone and in words (issue 23), as the one formatting helper writes it
    assert when(future.starts_at, cast.institution_a, language="en") in body
    assert local_start.strftime("%H:%M") in when(future.starts_at, cast.institution_a, language="en")
    assert AuditEntry.objects.get(action="partnership.end").details["cancelled_booking_ids"] == [future.pk]


def test_p8_a_partner_can_be_invited_again_after_it_was_deleted(cast, partners, login):
    login(cast.alice).post(
        reverse("partners:partner-delete", args=[partners.partnership_p.pk]), {"future_bookings": "keep"}
    )
    from medbook.partners.tests.helpers import ADD, partner_form

    response = login(cast.alice).post(
        ADD,
        partner_form(
            cast, name="CallCenter Ltd", registration_number="01-09-111111", tax_number="12345676-2-41"
        ),
    )
    assert response.status_code == 302
    again = Partnership.objects.filter(partner=partners.partner_p, institution=cast.institution_a).latest(
        "pk"
    )
    assert again.status == Partnership.Status.PENDING_APPROVAL
    assert again.channel_id == partners.partnership_p.channel_id and again.channel.is_active


# -- P-9: the matrix ------------------------------------------------------------------------------------


def test_p9_matrix_shows_services_builtin_channels_then_partner_columns(cast, partners, login):
    ended = partnership_make(cast.institution_a, partners.partner_q, status=Partnership.Status.ENDED)
    content = login(cast.alice).get(MATRIX).content.decode()
    assert "<h1>Traffic Channels</h1>" in content
    online, phone, partner = (
        content.index(">Online<"),
        content.index(">Phone<"),
        content.index('data-partner="CallCenter Ltd"'),
    )
    assert online < phone < partner
    assert 'class="partner-column"' in content
    assert "Quiet Partners Kft." not in content  # an ended partnership has no column
    assert f'data-testid="cell-{partners.partnership_p.pk}-{cast.service_a.pk}"' in content
    assert f"cell-{ended.pk}-" not in content
    assert "Dermatology check" not in content  # institution B's service


def test_p9_ticking_a_cell_saves_at_once_and_is_audited(cast, partners, login):
    other = ServiceFactory(institution=cast.institution_a, name="Echo", locations=[cast.location_a1])
    url = reverse("partners:matrix-cell", args=[partners.partnership_p.pk, other.pk])
    response = login(cast.alice).post(
        url, {"enabled": ["0", "1"]}, HTTP_HX_REQUEST="true", REMOTE_ADDR="192.0.2.9"
    )
    assert response.status_code == 200
    cell = response.content.decode()
    assert cell.strip().startswith("<td") and "checked" in cell and "Saved" in cell
    assert other in partners.partnership_p.services.all()
    check(cast, partners.partner_p, service=other)
    entry = AuditEntry.objects.get(action="partnership.service_set")
    assert (entry.user, entry.ip_address, entry.details["enabled"]) == (cast.alice, "192.0.2.9", True)
    response = login(cast.alice).post(url, {"enabled": "0"}, HTTP_HX_REQUEST="true")
    assert "checked" not in response.content.decode()
    with pytest.raises(DomainError):
        check(cast, partners.partner_p, service=other)


def test_p9_staff_cannot_tick_a_cell(cast, partners, login):
    url = reverse("partners:matrix-cell", args=[partners.partnership_p.pk, cast.service_a.pk])
    assert login(cast.bob).post(url, {"enabled": "0"}).status_code == 403
    assert login(cast.bob).get(MATRIX).status_code == 403
    assert cast.service_a in partners.partnership_p.services.all()


def test_p9_another_institution_cannot_tick_a_cell(cast, partners, login):
    url = reverse("partners:matrix-cell", args=[partners.partnership_p.pk, cast.service_a.pk])
    assert login(cast.charlie).post(url, {"enabled": "0"}).status_code == 404
    assert cast.service_a in partners.partnership_p.services.all()
    assert "CallCenter Ltd" not in login(cast.charlie).get(MATRIX).content.decode()


def test_p9_another_institutions_service_cannot_be_ticked(cast, partners, login):
    url = reverse("partners:matrix-cell", args=[partners.partnership_p.pk, cast.service_b.pk])
    assert login(cast.alice).post(url, {"enabled": "1"}).status_code == 404
    assert cast.service_b not in partners.partnership_p.services.all()


def test_p9_partner_sees_its_authorised_services_only(cast, partners, login):
    content = login(partners.peter).get(reverse("partners:home")).content.decode()
    assert "Institution A" in content and "Cardiology check" in content and "A Central" in content
    assert "A North" not in content
