"""The partner module's demo data (called by `seed_demo`): safe to run again and again."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from medbook.accounts.actor import actor_for
from medbook.accounts.models import Membership, Organization, User
from medbook.institutions.models import Institution, Location, Service
from medbook.partners.access import access_booking_terms
from medbook.partners.models import GTCAcceptance, GTCVersion, Partner, Partnership
from medbook.partners.services.contract import CONTACT_FIELDS, partner_channel, partner_invite
from medbook.partners.validators import registry_key
from medbook.patients.models import Patient
from medbook.scheduling.models import Booking
from medbook.scheduling.selectors import available_slots
from medbook.scheduling.services import booking_create

GTC_VERSION = "2026-1"
GTC_TEXT = (
    "General Terms and Conditions of the MedBook partner programme (demo).\n\n"
    "1. The partner is a legal entity and books only on behalf of its own patients.\n"
    "2. The partner books only the services and locations the institution has authorised.\n"
    "3. Patient data seen while booking is confidential and may not be exported.\n"
)
CALLCENTER = {
    "name": "CallCenter Ltd",
    "registration_number": "01-09-900001",
    "tax_number": "26184034-2-42",
    "address": "Andrássy út 100, 1062 Budapest",
    "country": "HU",
    "contact_name": "Csilla Kertész",
    "contact_email": "contact@callcenter.example",
    "contact_phone": "+36 1 555 0100",
    "contact_language": "en",
}
CALLCENTER_LOCATIONS = ("Northside Central", "Northside Buda")
CALLCENTER_SERVICES = (
    "Cardiology consultation",
    "Resting ECG",
    "Dermatology consultation",
    "Orthopaedic consultation",
)
WESTSIDE = {
    "name": "Westside Physicians Kft.",
    "registration_number": "01-09-900002",
    "tax_number": "21234505-2-42",
    "address": "Budakeszi út 30, 1121 Budapest",
    "country": "HU",
    "contact_name": "Vilma Nyugati",
    "contact_email": "office@westside.example",
    "contact_phone": "+36 1 555 0200",
    "contact_language": "hu",
}
PARTNER_LOGINS = (
    ("contact@callcenter.example", "partner administrator at CallCenter Ltd"),
    ("agent@callcenter.example", "CallCenter Ltd user who may book to partner institutions"),
    ("viewer@callcenter.example", "CallCenter Ltd user who may not book"),
)
CALLCENTER_USERS = (
    ("agent@callcenter.example", "Ágnes Ügynök", True),
    ("viewer@callcenter.example", "Viktor Néző", False),
)
PARTNER_BOOKINGS = 4


@transaction.atomic
def demo_partners(*, northside: Institution, admin: Membership, make_user) -> None:
    """Publish the GTC; CallCenter Ltd active at Northside, Westside Physicians Kft. invited (pending)."""
    gtc, _created = GTCVersion.objects.get_or_create(
        version=GTC_VERSION, defaults={"text": GTC_TEXT, "published_at": datetime(2026, 1, 1, tzinfo=UTC)}
    )
    callcenter = _demo_partner(CALLCENTER)
    if not callcenter.is_verified:  # the operator has checked CallCenter Ltd (P-14)
        callcenter.verification_status = Partner.Verification.VERIFIED
        callcenter.verified_at = datetime(2026, 1, 14, tzinfo=UTC)
        callcenter.verification_note = "Demo: checked against the company register."
        callcenter.save(update_fields=["verification_status", "verified_at", "verification_note"])
    contact = make_user(CALLCENTER["contact_email"], CALLCENTER["contact_name"])
    Membership.objects.update_or_create(
        user=contact,
        organization=callcenter,
        defaults={"role": Membership.Role.PARTNER_ADMIN, "can_book": True, "is_active": True},
    )
    GTCAcceptance.objects.get_or_create(
        partner=callcenter, version=gtc, defaults={"user": contact, "ip_address": "127.0.0.1"}
    )
    _demo_callcenter_partnership(northside, callcenter, admin.user)
    agent = _demo_callcenter_users(callcenter, make_user)
    _demo_callcenter_bookings(northside, callcenter, agent)
    actor = actor_for(admin.user, admin.organization_id)
    westside = Partner.objects.filter(
        registry_key=registry_key("HU", WESTSIDE["registration_number"])
    ).first()
    if (
        westside is None
        or not Partnership.objects.live().filter(institution=northside, partner=westside).exists()
    ):
        partner_invite(
            actor=actor,
            details=WESTSIDE,
            terms={
                "commission_enabled": True,
                "commission_percent": None,
                "commission_fixed": Decimal("2500.00"),
                "payment_location": Partnership.PaymentLocation.PARTNER,
                "patient_data_access": False,
            },
            locations=list(Location.objects.filter(institution=northside, name="Northside Pest")),
        )


def _demo_partner(details: dict) -> Partner:
    key = registry_key(details["country"], details["registration_number"])
    partner, _created = Partner.objects.update_or_create(
        registry_key=key, defaults={"kind": Organization.Kind.PARTNER, **details}
    )
    return partner


def _demo_callcenter_partnership(northside: Institution, callcenter: Partner, admin: User) -> None:
    """Active, 10 % commission, patient-data access, payment at the institution, four services, two sites."""
    partnership = Partnership.objects.live().filter(institution=northside, partner=callcenter).first()
    terms = {
        "status": Partnership.Status.ACTIVE,
        "commission_enabled": True,
        "commission_percent": Decimal("10.00"),
        "commission_fixed": None,
        "payment_location": Partnership.PaymentLocation.INSTITUTION,
        "patient_data_access": True,
        **{field: CALLCENTER[field] for field in CONTACT_FIELDS},
    }
    if partnership is None:
        partnership = Partnership.objects.create(
            institution=northside,
            partner=callcenter,
            channel=partner_channel(institution=northside, partner=callcenter),
            invited_by=admin,
            activated_at=datetime(2026, 1, 15, tzinfo=UTC),
            **terms,
        )
    else:
        Partnership.objects.filter(pk=partnership.pk).update(**terms)
    partnership.locations.set(Location.objects.filter(institution=northside, name__in=CALLCENTER_LOCATIONS))
    partnership.services.set(Service.objects.filter(institution=northside, name__in=CALLCENTER_SERVICES))


def _demo_callcenter_users(callcenter: Partner, make_user) -> Membership:
    """The agent (may book) and the viewer (may not); return the agent's membership."""
    memberships = {}
    for email, name, can_book in CALLCENTER_USERS:
        memberships[email], _created = Membership.objects.update_or_create(
            user=make_user(email, name),
            organization=callcenter,
            defaults={"role": Membership.Role.PARTNER_USER, "can_book": can_book, "is_active": True},
        )
    return memberships["agent@callcenter.example"]


def _demo_callcenter_bookings(northside: Institution, callcenter: Partner, agent: Membership) -> None:
    """A few upcoming bookings made by the agent through "Book to partner" (only when none are left)."""
    upcoming = Booking.objects.filter(
        partner=callcenter, status=Booking.Status.BOOKED, starts_at__gt=timezone.now()
    )
    if upcoming.exists():
        return
    actor = actor_for(agent.user, agent.organization_id)
    partnership = Partnership.objects.bookable().get(institution=northside, partner=callcenter)
    patients = list(Patient.objects.filter(institution=northside).order_by("insurance_id")[:PARTNER_BOOKINGS])
    today = timezone.localdate()
    made = 0
    for service in partnership.services.order_by("name"):
        location = service.locations.filter(pk__in=partnership.locations.all()).order_by("name").first()
        physician = service.physicians.filter(locations=location).order_by("full_name").first()
        if location is None or physician is None or made >= min(PARTNER_BOOKINGS, len(patients)):
            continue
        slots = available_slots(
            physician=physician,
            location=location,
            service=service,
            date_from=today + timedelta(days=2),
            date_until=today + timedelta(days=14),
        )
        if slots:
            booking_create(
                actor=actor,
                location=location,
                physician=physician,
                service=service,
                patient=patients[made],
                starts_at=slots[len(slots) // 2].starts_at,
                note="Booked by the CallCenter demo agent",
                terms=access_booking_terms(actor=actor, location=location, service=service),
            )
            made += 1
