"""Issue 19's review: an old co-claimant's webhook endpoint does not receive the real partner's events."""

import importlib

import pytest
from django.apps import apps

from medbook.partners.models import Partner
from medbook.partners.tests.factories import partner_make
from medbook.webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db


def _endpoint(organization, url: str) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(organization=organization, url=url, events=["booking.created"])


def test_finding_an_unverified_partners_endpoints_stop_with_the_claims(cast, partners):
    unverified = partner_make(
        "Claimed Kft.", "01-09-333333", "11111113-2-41", "real@c.test", Partner.Verification.UNVERIFIED
    )
    mallory = _endpoint(unverified, "https://evil.example/hook")
    verified = _endpoint(partners.partner_p, "https://p.example/hook")
    institution = _endpoint(cast.institution_a, "https://a.example/hook")
    migration = importlib.import_module("medbook.webhooks.migrations.0002_unverified_partner_endpoints_off")
    migration.endpoints_of_unverified_partners_off(apps, None)
    for endpoint in (mallory, verified, institution):
        endpoint.refresh_from_db()
    assert not mallory.is_active
    assert verified.is_active and institution.is_active
