"""Factories and helpers for partners, partnerships and GTC versions."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from medbook.accounts.models import Membership, Organization
from medbook.partners.models import GTCAcceptance, GTCVersion, Partner, Partnership
from medbook.partners.validators import registry_key
from medbook.scheduling.models import TrafficChannel


def gtc_publish(version: str = "2026-1", *, ago: timedelta = timedelta(days=1)) -> GTCVersion:
    """Publish a GTC version (it becomes the current one)."""
    return GTCVersion.objects.create(
        version=version, text=f"General Terms and Conditions {version}.", published_at=timezone.now() - ago
    )


def partner_make(
    name: str,
    registration_number: str,
    tax_number: str,
    contact_email: str,
    verification: str = Partner.Verification.VERIFIED,
) -> Partner:
    """A partner on the platform (verified by the operator unless told otherwise)."""
    return Partner.objects.create(
        kind=Organization.Kind.PARTNER,
        name=name,
        registration_number=registration_number,
        tax_number=tax_number,
        address="Budapest",
        country="HU",
        registry_key=registry_key("HU", registration_number),
        contact_name="Contact Person",
        contact_email=contact_email,
        contact_phone="+36 1 234 5678",
        verification_status=verification,
    )


def partnership_make(
    institution, partner: Partner, *, status=Partnership.Status.ACTIVE, locations=(), services=(), **terms
) -> Partnership:
    """A partnership with its traffic channel, as partner_invite would leave it."""
    channel, _created = TrafficChannel.objects.get_or_create(
        institution=institution,
        code=f"partner-{partner.pk}",
        defaults={"name": partner.name, "partner": partner, "position": 100},
    )
    partnership = Partnership.objects.create(
        institution=institution,
        partner=partner,
        status=status,
        channel=channel,
        activated_at=timezone.now() if status == Partnership.Status.ACTIVE else None,
        contact_name=partner.contact_name,
        contact_email=partner.contact_email,
        contact_phone=partner.contact_phone,
        **terms,
    )
    partnership.locations.set(locations)
    partnership.services.set(services)
    return partnership


def partner_member(user, partner: Partner, role=Membership.Role.PARTNER_USER, can_book=False) -> Membership:
    return Membership.objects.create(user=user, organization=partner, role=role, can_book=can_book)


def gtc_accepted_by(partner: Partner, user, version: GTCVersion) -> GTCAcceptance:
    return GTCAcceptance.objects.create(partner=partner, user=user, version=version, ip_address="127.0.0.1")


TEN_PERCENT = {"commission_enabled": True, "commission_percent": Decimal("10.00")}
