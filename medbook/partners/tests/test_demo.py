"""The partner demo data of `seed_demo`: CallCenter Ltd active, Westside Physicians Kft. invited."""

from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command

from medbook.partners.access import access_partnership_target
from medbook.partners.models import Partnership

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def partner_counts() -> dict[str, int]:
    counts = {}
    for label in ("partners", "accounts", "scheduling", "notifications"):
        for model in apps.get_app_config(label).get_models():
            counts[model._meta.label] = model.objects.count()
            for field in model._meta.local_many_to_many:
                through = field.remote_field.through
                counts[through._meta.label] = through.objects.count()
    return counts


def test_p3_seed_demo_partners_are_idempotent_and_complete():
    output = seed()
    first = partner_counts()
    seed()
    assert partner_counts() == first
    assert "contact@callcenter.example" in output
    assert authenticate(username="contact@callcenter.example", password="Demo-pass-2026") is not None

    callcenter = Partnership.objects.get(partner__name="CallCenter Ltd")
    assert (
        callcenter.status == Partnership.Status.ACTIVE and callcenter.institution.name == "Northside Clinic"
    )
    assert callcenter.commission_percent == Decimal("10.00") and callcenter.patient_data_access
    assert callcenter.payment_location == "institution"
    assert callcenter.services.count() == 4 and callcenter.locations.count() == 2
    for service in callcenter.services.all():
        location = service.locations.filter(pk__in=callcenter.locations.all()).first()
        assert location is not None, service
        access_partnership_target(partner=callcenter.partner, location=location, service=service)

    westside = Partnership.objects.get(partner__name="Westside Physicians Kft.")
    assert westside.status == Partnership.Status.PENDING_REGISTRATION
    assert westside.payment_location == "partner" and westside.commission_fixed == Decimal("2500.00")
    assert westside.invitations.count() == 1
