"""Slot holds (issue 21). On PostgreSQL no two hold rows of one physician overlap, live or expired: a
constraint cannot ask now(), so the hold service deletes the expired holds in the way, under the
physician's lock, before it inserts (docs/scheduling.md). Like the bookings' constraint, it leads with
the institution, ready for sharding by it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


NO_OVERLAP = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE scheduling_slothold ADD CONSTRAINT slot_hold_physician_no_overlap
    EXCLUDE USING gist (
        institution_id WITH =, physician_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&
    );
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(NO_OVERLAP)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE scheduling_slothold DROP CONSTRAINT IF EXISTS slot_hold_physician_no_overlap;"
        )


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_api_token'),
        ('institutions', '0003_service_duration_max'),
        ('scheduling', '0007_booking_partner_patient'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='SlotHold',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('starts_at', models.DateTimeField(verbose_name='starts at')),
                ('ends_at', models.DateTimeField(verbose_name='ends at')),
                ('expires_at', models.DateTimeField(verbose_name='expires')),
                ('key_hash', models.CharField(editable=False, max_length=64, unique=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('institution', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='institutions.institution')),
                ('location', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='institutions.location')),
                ('organization', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.organization')),
                ('physician', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='institutions.physician')),
                ('service', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='institutions.service')),
                ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'slot hold',
                'verbose_name_plural': 'slot holds',
                'ordering': ['starts_at'],
                'indexes': [models.Index(fields=['physician', 'starts_at'], name='scheduling__physici_07c988_idx'), models.Index(fields=['expires_at'], name='scheduling__expires_82a277_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('ends_at__gt', models.F('starts_at'))), name='slot_hold_end_after_start'), models.CheckConstraint(condition=models.Q(models.Q(('organization__isnull', True), ('user__isnull', True)), models.Q(('organization__isnull', False), ('user__isnull', False)), _connector='OR'), name='slot_hold_user_with_organization')],
            },
        ),
        migrations.RunPython(forward, backward),
    ]
