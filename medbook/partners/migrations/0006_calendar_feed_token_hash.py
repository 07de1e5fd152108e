"""Issue 19: keep only the SHA-256 of each calendar feed token; the addresses already given keep working."""

import hashlib

from django.db import migrations, models


def hash_tokens(apps, schema_editor):
    """Replace each stored token by its SHA-256 (what `CalendarFeed.hash_of` computes)."""
    CalendarFeed = apps.get_model("partners", "CalendarFeed")
    for feed in CalendarFeed.objects.all().only("pk", "token_hash"):
        hashed = hashlib.sha256(feed.token_hash.encode()).hexdigest()
        CalendarFeed.objects.filter(pk=feed.pk).update(token_hash=hashed)


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0005_partner_identity_claims"),
    ]

    operations = [
        migrations.RenameField(model_name="calendarfeed", old_name="token", new_name="token_hash"),
        migrations.AlterField(
            model_name="calendarfeed",
            name="token_hash",
            field=models.CharField(max_length=64, unique=True, verbose_name="token hash"),
        ),
        # Not reversible: a hash gives no token back (going back, every feed needs a new address).
        migrations.RunPython(hash_tokens, migrations.RunPython.noop),
    ]
