"""Check a generated database the way the application sees it, and print the findings as JSON.

    .venv/bin/python bench/verify.py [--database medbook_bench] [--sample 300]

Counts per table; active bookings of a physician that overlap; partner bookings outside what their
partnership authorised (by the matrices, and by `partners.access.access_partnership_target` for a sample of
future ones); bookings outside the physician's working hours or off the slot grid (a sample, through the
slot engine); TAJ numbers the validator refuses; the audit log as `manage.py audit_verify` checks it
(`medbook.audit.verify.problems`: every Merkle tree recomputed from its entries, every signed head, the
consistency of successive heads, no entry left unsealed) and the append-only triggers; and whether `booking_create` can add a booking (rolled back afterwards).
"""

import argparse
import json
import os
import sys
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gen import db  # noqa: E402

TABLES = (
    "accounts_organization",
    "accounts_user",
    "accounts_membership",
    "institutions_institution",
    "institutions_location",
    "institutions_physician",
    "institutions_service",
    "partners_partner",
    "partners_partnership",
    "patients_patient",
    "scheduling_booking",
    "audit_auditentry",
    "audit_auditleaf",
    "audit_auditpending",
    "audit_audittree",
    "audit_audittreehead",
    "notifications_outboxmessage",
)
OVERLAPS = """
SELECT count(*) FROM (
    SELECT starts_at, max(ends_at) OVER (PARTITION BY physician_id ORDER BY starts_at, id
                                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_end
    FROM scheduling_booking WHERE status <> 'cancelled') AS ordered
WHERE starts_at < previous_end
"""
UNAUTHORISED = """
SELECT count(*) FROM scheduling_booking b WHERE b.partner_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM partners_partnership p
    JOIN partners_partnership_locations l ON l.partnership_id = p.id AND l.location_id = b.location_id
    JOIN partners_partnership_services s ON s.partnership_id = p.id AND s.service_id = b.service_id
    WHERE p.institution_id = b.institution_id AND p.partner_id = b.partner_id AND p.channel_id = b.channel_id
      AND p.activated_at <= b.created_at AND (p.ended_at IS NULL OR b.created_at < p.ended_at))
"""

# A partner's booking captures the patient as the partner entered them (scheduling.patient_shown): the
# generated ones, never merged, the record's own name and birth date.
UNCAPTURED = """
SELECT count(*) FROM scheduling_booking b JOIN patients_patient p ON p.id = b.patient_id
WHERE b.partner_id IS NOT NULL AND (b.partner_patient_ref IS DISTINCT FROM b.patient_id
    OR b.partner_patient_name <> p.full_name OR b.partner_patient_birth_date IS DISTINCT FROM p.birth_date)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="medbook_bench")
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument(
        "--skip-audit", action="store_true", help="do not run audit_verify's checks (slow at full)"
    )
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = db.database_url(args.database, os.environ.get("DATABASE_URL"))
    os.environ["DATABASE_POOL"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    import django

    django.setup()
    print(json.dumps(findings(args.sample, not args.skip_audit), indent=2))


def findings(sample: int, check_audit: bool) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        counts = {}
        for table in TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
        cursor.execute(OVERLAPS)
        overlaps = cursor.fetchone()[0]
        cursor.execute(UNAUTHORISED)
        unauthorised = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM scheduling_booking WHERE partner_id IS NOT NULL")
        partner_bookings = cursor.fetchone()[0]
        cursor.execute(UNCAPTURED)
        uncaptured = cursor.fetchone()[0]
    return {
        "counts": counts,
        "partner_share": partner_bookings / max(1, counts["scheduling_booking"]),
        "overlapping_active_bookings": overlaps,
        "partner_bookings_outside_matrix": unauthorised,
        "partner_bookings_without_their_patient": uncaptured,
        "partner_refusals_by_access_rule": partner_refusals(sample),
        "outside_hours_or_grid": outside_hours_or_grid(sample),
        "invalid_taj": invalid_taj(sample * 100),
        "audit_verify_problems": audit_problems() if check_audit else "not checked",
        "new_booking": new_booking(),
    }


def partner_refusals(sample: int) -> list[str]:
    """What `access_partnership_target` says of a sample of the future partner bookings (none: all allowed)."""
    from django.utils import timezone

    from medbook.core.errors import DomainError
    from medbook.partners.access import access_partnership_target, terms_of
    from medbook.scheduling.models import Booking

    refused = []
    bookings = (
        Booking.objects.filter(partner__isnull=False, starts_at__gt=timezone.now(), status="booked")
        .select_related("partner__partner", "location", "service")
        .order_by("?")[:sample]
    )
    for booking in bookings:
        try:
            partnership = access_partnership_target(
                partner=booking.partner.partner, location=booking.location, service=booking.service
            )
        except DomainError as error:
            refused.append(f"booking {booking.pk}: {error}")
            continue
        terms = terms_of(partnership)
        captured = (booking.channel_id, booking.commission_percent, booking.commission_fixed)
        if captured != (terms.channel_id, terms.commission_percent, terms.commission_fixed):
            refused.append(
                f"booking {booking.pk}: captured {captured}, the partnership's terms say otherwise"
            )
    return refused


def outside_hours_or_grid(sample: int) -> list[int]:
    """Active bookings (a sample) that the slot engine would not have offered: outside hours or off the grid."""
    from medbook.scheduling import policy, selectors
    from medbook.scheduling import slots as engine
    from medbook.scheduling.models import Booking

    wrong = []
    bookings = (
        Booking.objects.exclude(status="cancelled")
        .select_related("institution", "physician", "location", "service")
        .order_by("?")[:sample]
    )
    for booking in bookings:
        day = booking.starts_at.astimezone(ZoneInfo(booking.institution.time_zone)).date()
        intervals = selectors.working_intervals_for(
            physician=booking.physician, location=booking.location, date_from=day, date_until=day
        )
        step = policy.slot_step(
            institution=booking.institution, duration_minutes=booking.service.duration_minutes
        )
        grid = engine.grid_slots(intervals, timedelta(minutes=booking.service.duration_minutes), step)
        on_grid = any(
            slot.starts_at == booking.starts_at and slot.ends_at == booking.ends_at for slot in grid
        )
        if not on_grid or not engine.inside_working_hours(
            engine.Interval(booking.starts_at, booking.ends_at), intervals
        ):
            wrong.append(booking.pk)
    return wrong


def invalid_taj(limit: int) -> int:
    from medbook.patients.models import Patient
    from medbook.patients.validators import taj_is_valid

    numbers = Patient.objects.exclude(insurance_id="").values_list("insurance_id", flat=True)[:limit]
    return sum(1 for number in numbers if not taj_is_valid(number))


def audit_problems(limit: int = 20) -> list[str]:
    """What `manage.py audit_verify` would report (the first `limit` problems), and missing triggers."""
    from itertools import islice

    from django.db import connection

    from medbook.audit import triggers, verify

    found = list(islice(verify.problems(), limit))
    if not triggers.installed(connection):
        found.append("the append-only triggers are missing")
    return found


def new_booking() -> dict:
    """Book the first free slot through `booking_create` as reception would, then roll it back."""
    from django.db import transaction
    from django.utils import timezone

    from medbook.accounts.actor import actor_for
    from medbook.accounts.models import Membership
    from medbook.demo.management.commands.seed_demo import bookable_offers
    from medbook.institutions.models import Institution
    from medbook.patients.models import Patient
    from medbook.scheduling.models import Booking
    from medbook.scheduling.selectors import available_slots
    from medbook.scheduling.services import booking_create

    institution = Institution.objects.order_by("pk").first()
    staff = Membership.objects.filter(organization=institution, role="staff").select_related("user").first()
    actor = actor_for(staff.user, institution.pk)
    today = timezone.localdate()
    highest = Booking.objects.order_by("-pk").values_list("pk", flat=True).first()
    with transaction.atomic():
        for physician, location, service in bookable_offers(institution):
            slots = available_slots(
                physician=physician,
                location=location,
                service=service,
                date_from=today + timedelta(days=1),
                date_until=today + timedelta(days=60),
            )
            if slots:
                booking = booking_create(
                    actor=actor,
                    location=location,
                    physician=physician,
                    service=service,
                    patient=Patient.objects.filter(institution=institution).first(),
                    starts_at=slots[-1].starts_at,
                )
                transaction.set_rollback(True)
                return {"created_id": booking.pk, "highest_generated_id": highest}
    return {"created_id": None, "highest_generated_id": highest}


if __name__ == "__main__":
    main()
