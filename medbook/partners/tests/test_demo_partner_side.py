"""The partner side's demo data: agent (may book), viewer (may not), a few CallCenter bookings; idempotent."""

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from medbook.accounts.models import Membership
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db


def test_p10_seed_demo_has_partner_users_and_partner_bookings():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    first = Booking.objects.filter(partner__name="CallCenter Ltd").count()
    call_command("seed_demo", stdout=StringIO())
    assert Booking.objects.filter(partner__name="CallCenter Ltd").count() == first >= 3
    for email, can_book in (("agent@callcenter.example", True), ("viewer@callcenter.example", False)):
        assert authenticate(username=email, password="Demo-pass-2026") is not None
        assert email in out.getvalue()
        membership = Membership.objects.get(user__email=email, organization__name="CallCenter Ltd")
        assert membership.can_book is can_book and membership.is_active
    booking = Booking.objects.filter(partner__name="CallCenter Ltd").first()
    assert booking.booked_by.email == "agent@callcenter.example" and booking.commission_percent is not None
