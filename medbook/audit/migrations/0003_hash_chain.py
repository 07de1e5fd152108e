# The hash chain (F9): prev_hash and row_hash on every entry; existing entries are chained in id order.

from django.db import migrations, models
from django.utils import timezone


def chain_existing(apps, schema_editor):
    from medbook.audit.chain import GENESIS, row_hash_of

    AuditEntry = apps.get_model("audit", "AuditEntry")
    prev = GENESIS
    for entry in AuditEntry.objects.using(schema_editor.connection.alias).order_by("pk").iterator():
        entry.prev_hash = prev
        entry.row_hash = row_hash_of(entry)
        AuditEntry.objects.filter(pk=entry.pk).update(prev_hash=entry.prev_hash, row_hash=entry.row_hash)
        prev = entry.row_hash


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_request_id"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditentry",
            name="created_at",
            field=models.DateTimeField(db_index=True, default=timezone.now, editable=False, verbose_name="when"),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="prev_hash",
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name="previous entry's hash"),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="row_hash",
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name="hash"),
        ),
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
    ]
