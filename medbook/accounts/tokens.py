"""Personal API tokens (X-1): made, listed and revoked by their user, found by their hash.

A token is `mbk_<prefix>_<secret>`: 8 characters to recognise it in a list and 43 of URL-safe randomness
(256 bits). Only its SHA-256 is stored, so a copy of the database lets nobody call the API. A token acts
for one organisation through one membership: a deactivated user or membership, a revoked or expired
token is not found. A security event of the account (a password reset, a two-factor enrolment, an
organisation starting to require two-factor, a deactivation, a role change) revokes its tokens: one made
before it, perhaps by someone who had only the password, must not outlive it.
"""

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook.accounts.models import ApiToken, Membership, Organization, User
from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.errors import DomainError
from medbook.core.ids import parse_id
from medbook.core.tenancy import Actor

TOKEN_START = "mbk_"
DEFAULT_DAYS = 90
MAX_DAYS = 365
MAX_LIVE_TOKENS = 20  # per user and organisation
LAST_USED_EVERY = timedelta(minutes=1)  # how often a token's last use is written (not on every call)
# Why a security event revoked tokens (the audit entry's "reason").
REVOKED_BY_PASSWORD_RESET = "password_reset"
REVOKED_BY_TWO_FACTOR = "two_factor_enrolment"
REVOKED_BY_ORGANIZATION_TWO_FACTOR = "organization_requires_two_factor"
REVOKED_BY_DEACTIVATION = "deactivation"
REVOKED_BY_ROLE_CHANGE = "role_change"


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_tokens_of(actor: Actor) -> QuerySet[ApiToken]:
    """The actor's own tokens for the organisation it acts for, newest first."""
    if actor is None or actor.user is None or actor.membership is None:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=actor.user, membership=actor.membership)


@transaction.atomic
def api_token_create(
    *, actor: Actor, name: str, read_only: bool = False, days: int = DEFAULT_DAYS, by_operator: bool = False
) -> tuple[ApiToken, str]:
    """Make a token for the actor's user and organisation; return it with its secret (shown once).

    Anyone with an active membership may hold one; its calls have exactly the membership's permissions,
    partner rules and quotas. The operator (no membership) cannot: the operator's tool is Django admin.
    """
    if actor is None or actor.user is None or actor.membership is None or not actor.membership.is_active:
        raise DomainError(_("Only a member of an organisation can hold an API token."))
    name = " ".join((name or "").split())
    if not name or len(name) > 100:
        raise DomainError(_("Give the token a name of at most 100 characters."), field="name")
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= MAX_DAYS:
        raise DomainError(
            _("A token lasts from 1 to %(max)s days.") % {"max": MAX_DAYS},
            field="days",
        )
    now = timezone.now()
    live = api_tokens_of(actor).filter(revoked_at__isnull=True, expires_at__gt=now)
    if live.count() >= MAX_LIVE_TOKENS:
        raise DomainError(
            _("You have %(max)s live tokens for this organisation: revoke one first.")
            % {"max": MAX_LIVE_TOKENS}
        )
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_START}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=actor.user,
        membership=actor.membership,
        name=name,
        prefix=prefix,
        key_hash=token_hash(raw),
        read_only=bool(read_only),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    audit_record(
        actor=actor,
        action=AuditAction.API_TOKEN_CREATE,
        obj=token,
        name=name,
        read_only=token.read_only,
        days=days,
        by_operator=by_operator,
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, actor: Actor, token_id) -> ApiToken:
    """Revoke one of the actor's own tokens (anyone else's is 404); it stops working at once."""
    token = api_tokens_of(actor).select_for_update().filter(pk=parse_id(token_id)).first()
    if token is None:
        raise Http404()
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action=AuditAction.API_TOKEN_REVOKE, obj=token, name=token.name)
    return token


@transaction.atomic
def api_tokens_revoke_all(
    *,
    actor: Actor,
    reason: str,
    user: User | None = None,
    membership: Membership | None = None,
    organization: Organization | None = None,
) -> int:
    """Revoke every live token of the user, of one membership, or of an organisation's memberships, after a
    security event; each revocation audited with its reason. Return how many were revoked."""
    if user is None and membership is None and organization is None:
        raise ValueError("name whose tokens to revoke")
    now = timezone.now()
    tokens = ApiToken.objects.select_for_update().filter(revoked_at__isnull=True, expires_at__gt=now)
    if user is not None:
        tokens = tokens.filter(user=user)
    if membership is not None:
        tokens = tokens.filter(membership=membership)
    if organization is not None:
        tokens = tokens.filter(membership__organization=organization)
    revoked = list(tokens.select_related("user").order_by("pk"))
    for token in revoked:
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action=AuditAction.API_TOKEN_REVOKE,
            obj=token,
            name=token.name,
            holder=token.user.email,
            reason=reason,
        )
    return len(revoked)


def api_token_find(raw: str) -> ApiToken | None:
    """The live token with this secret whose user and membership are active, or None."""
    if not raw or not raw.startswith(TOKEN_START) or len(raw) > 100:
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user", "membership__organization")
        .filter(
            key_hash=token_hash(raw),
            revoked_at__isnull=True,
            expires_at__gt=now,
            user__is_active=True,
            membership__is_active=True,
        )
        .first()
    )
    if token is not None and (token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY):
        # At most once a minute, in the statement of its own (autocommit) before any transaction of the
        # request: a booking's transaction never holds the token's row. The condition is repeated in the
        # UPDATE so that requests at the same moment write it once between them.
        due = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_EVERY)
        ApiToken.objects.filter(due, pk=token.pk).update(last_used_at=now)
    return token
