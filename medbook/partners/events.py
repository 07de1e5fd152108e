"""The `partnership.changed` webhook event (X-7): to both sides of the partnership, with its new state."""

from medbook.partners.models import Partnership
from medbook.webhooks.services import webhook_enqueue


def partnership_event(partnership: Partnership, change: str) -> None:
    webhook_enqueue(
        organization_ids=[partnership.institution_id, partnership.partner_id],
        event="partnership.changed",
        data=lambda: {
            "partnership": {
                "id": partnership.pk,
                "institution_id": partnership.institution_id,
                "partner_id": partnership.partner_id,
                "status": partnership.status,
                "change": change,
                "service_ids": sorted(s.pk for s in partnership.services.all()),
                "location_ids": sorted(x.pk for x in partnership.locations.all()),
            }
        },
    )
