"""The webhook endpoints of partners not yet verified stop (issue 19): before the claims, a co-claimant was
an administrator of the unverified partner and could add one; after the operator accepts the real contact,
its events would otherwise still go there. The partner's accepted administrator sees them on Webhooks,
inactive, and deletes or adds endpoints of its own."""

from django.db import migrations


def endpoints_of_unverified_partners_off(apps, schema_editor):
    Partner = apps.get_model("partners", "Partner")
    WebhookEndpoint = apps.get_model("webhooks", "WebhookEndpoint")
    unverified = Partner.objects.exclude(verification_status="verified").values("pk")
    WebhookEndpoint.objects.filter(organization_id__in=unverified, is_active=True).update(is_active=False)


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_endpoints_deliveries"),
        ("partners", "0005_partner_identity_claims"),
    ]

    operations = [migrations.RunPython(endpoints_of_unverified_partners_off, migrations.RunPython.noop)]
