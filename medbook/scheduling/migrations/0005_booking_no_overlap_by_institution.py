"""B-8 with the tenant in front: the exclusion constraint leads with institution_id (issue 13).

The rule is the same (a physician belongs to one institution, and a booking to its physician's), but a
constraint that names the distribution column can stay a constraint when the bookings are sharded by
institution (Citus refuses an exclusion constraint without it; docs/scaling.md), and its index serves
every tenant's lookups by (institution, physician, time).
"""

from django.db import migrations

FORWARD = """
ALTER TABLE scheduling_booking DROP CONSTRAINT IF EXISTS booking_physician_no_overlap;
ALTER TABLE scheduling_booking ADD CONSTRAINT booking_physician_no_overlap
    EXCLUDE USING gist (
        institution_id WITH =, physician_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&
    )
    WHERE (status <> 'cancelled');
"""
BACKWARD = """
ALTER TABLE scheduling_booking DROP CONSTRAINT IF EXISTS booking_physician_no_overlap;
ALTER TABLE scheduling_booking ADD CONSTRAINT booking_physician_no_overlap
    EXCLUDE USING gist (physician_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
    WHERE (status <> 'cancelled');
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0004_attendance_cancel_reason")]
    operations = [migrations.RunPython(forward, backward)]
