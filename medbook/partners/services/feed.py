"""The partner user's secret iCalendar feed address (X-6): made anew or switched off, audited."""

import secrets

from django.db import transaction

from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.permissions import Perm, require
from medbook.core.tenancy import Actor
from medbook.partners.models import CalendarFeed


@transaction.atomic
def calendar_feed_renew(*, actor: Actor) -> tuple[CalendarFeed, str]:
    """Give the actor a new secret feed address; the old one stops working at once (X-6). Only the token's
    hash is stored: the token itself is returned this once, to be shown."""
    require(actor, Perm.BOOK_FOR_PARTNER)
    token = secrets.token_urlsafe(32)
    feed, _created = CalendarFeed.objects.update_or_create(
        membership=actor.membership, defaults={"token_hash": CalendarFeed.hash_of(token)}
    )
    audit_record(actor=actor, action=AuditAction.FEED_RENEW, obj=actor.membership)
    return feed, token


@transaction.atomic
def calendar_feed_revoke(*, actor: Actor) -> None:
    """Switch the actor's feed off: its address answers 404."""
    require(actor, Perm.BOOK_FOR_PARTNER)
    CalendarFeed.objects.filter(membership=actor.membership).delete()
    audit_record(actor=actor, action=AuditAction.FEED_REVOKE, obj=actor.membership)
