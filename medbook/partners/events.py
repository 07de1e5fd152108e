"""The `partnership.changed` webhook event (X-7): to the institution, and to the partner once the partner's
own pages show it the partnership (`partner_may_see`: an invitation still waiting for its contact to register
is not the partner's to hear of)."""

from medbook.partners.models import Partnership
from medbook.partners.selectors import partner_may_see
from medbook.webhooks.services import webhook_enqueue


def partnership_event(partnership: Partnership, change: str) -> None:
    audience = [partnership.institution_id]
    if partner_may_see(partnership):
        audience.append(partnership.partner_id)
    webhook_enqueue(
        organization_ids=audience,
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
