"""Reports beyond the permission matrix (R-1 … R-3, X-4): other partners' statements, unknown ids, menus.

Who may open which report is the permission matrix's (core/tests/test_permission_matrix.py): institution
admins see every report of their own institution; reception (staff) sees the bookings report (R-1) only; a
partner's users never reach an institution report (404, as if it did not exist), and only a partner's
admin downloads the partner's own statements.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from medbook.partners.models import Partnership
from medbook.partners.tests.factories import TEN_PERCENT, partnership_make
from medbook.scheduling.models import Booking, TrafficChannel

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner_booking(cast, partners) -> Booking:
    """A future booking partner P made at institution A."""
    starts = timezone.now() + timedelta(days=3)
    return Booking.objects.create(
        institution=cast.institution_a,
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=30),
        channel=TrafficChannel.objects.get(partner=partners.partner_p),
        partner=partners.partner_p,
        price="10000.00",
        currency="HUF",
        commission_percent="10.00",
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_x4_partner_cannot_reach_another_partners_statement(cast, partners, partner_booking, client, fmt):
    # Q's admin asks for A's statement: Q does not work with A, and P's bookings are not Q's.
    client.force_login(partners.quentin)
    assert (
        client.get(
            reverse("reports:partner-statement-download", args=[cast.institution_a.pk, fmt])
        ).status_code
        == 404
    )
    # P's admin tries the institution's copy of Q's (or P's) statement.
    client.force_login(partners.paula)
    for partner in (partners.partner_q, partners.partner_p):
        assert client.get(reverse("reports:settlement-download", args=[partner.pk, fmt])).status_code == 404


@pytest.mark.parametrize(
    "status", [Partnership.Status.PENDING_REGISTRATION, Partnership.Status.PENDING_VERIFICATION]
)
def test_finding_statements_do_not_reveal_a_partnership_the_partner_may_not_see(
    cast, partners, client, status
):
    # Institution B invited partner P, and the invitation still waits for its contact or for the operator: P's
    # admin is not told of it, neither on Statements nor by its download address.
    partnership_make(cast.institution_b, partners.partner_p, status=status, **TEN_PERCENT)
    client.force_login(partners.paula)
    page = client.get(reverse("reports:partner-statements"))
    assert page.status_code == 200
    assert cast.institution_a.name in page.content.decode()
    assert cast.institution_b.name not in page.content.decode()
    download = reverse("reports:partner-statement-download", args=[cast.institution_b.pk, "csv"])
    assert client.get(download).status_code == 404


def test_x4_institution_cannot_download_a_stranger_partners_statement(cast, partners, client):
    client.force_login(cast.alice)
    assert (
        client.get(reverse("reports:settlement-download", args=[partners.partner_q.pk, "csv"])).status_code
        == 404
    )
    assert (
        client.get(reverse("reports:settlement-download", args=[partners.partner_p.pk, "pdf"])).status_code
        == 404
    )


@pytest.mark.parametrize("pk", [999_999, 2**70])
def test_r3_unknown_booking_is_not_found(cast, partners, client, pk):
    client.force_login(cast.alice)
    assert client.get(reverse("reports:partner-booking-cancel", args=[pk])).status_code == 404


def test_r3_own_booking_without_partner_cannot_be_cancelled_from_the_partner_report(
    cast, partners, partner_booking, client
):
    partner_booking.partner = None
    partner_booking.save()
    client.force_login(cast.alice)
    assert (
        client.post(reverse("reports:partner-booking-cancel", args=[partner_booking.pk])).status_code == 404
    )


def test_r1_menu_include_links_the_reports(cast, partners, rf):
    from django.template.loader import render_to_string

    from conftest import actor_of

    admin_menu = render_to_string("reports/_menu.html", {"actor": actor_of(cast.alice)})
    for name in ("booking-report", "traffic", "partner-bookings", "settlement"):
        assert reverse(f"reports:{name}") in admin_menu
    assert "Partner-submitted statistics" in admin_menu
    staff_menu = render_to_string("reports/_menu.html", {"actor": actor_of(cast.bob)})
    assert reverse("reports:booking-report") in staff_menu and reverse("reports:traffic") not in staff_menu
    partner_menu = render_to_string("reports/_menu.html", {"actor": actor_of(partners.paula)})
    assert reverse("reports:partner-statements") in partner_menu
    assert reverse("reports:booking-report") not in partner_menu


@pytest.mark.parametrize("name", ["reports:booking-report", "reports:traffic", "reports:partner-bookings"])
def test_r1_r2_r3_a_period_at_the_end_of_time_gets_a_message(cast, client, name):
    client.force_login(cast.alice)
    response = client.get(reverse(name), {"date_from": "9999-12-30", "date_until": "9999-12-31"})
    assert response.status_code == 200 and b"Enter a date between 1900 and 2999." in response.content


def test_x4_statement_of_an_id_no_database_can_hold_is_not_found(cast, partners, client):
    client.force_login(partners.paula)
    response = client.get(reverse("reports:partner-statement-download", args=[2**63, "csv"]))
    assert response.status_code == 404
