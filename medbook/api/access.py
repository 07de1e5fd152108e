"""Who calls the JSON API and FHIR, written once for both adapters (issue 21).

- The token: `Authorization: Bearer <token>` resolves the actor the pages would resolve for its user, so the
  same permissions, partner rules, quotas and audit (with the token's id) follow. A revoked or expired
  token, a deactivated user or membership, a user who must enrol in two-factor authentication and has not
  (any organisation of theirs requires it, or the platform of administrators), or a partner whose every
  partnership has ended answers 401 at once; a read-only token is refused any change (403).
- The rate limit: every request of a token counts against its user's one budget (`ratelimit`), whichever
  adapter it reaches; past it, 429 with Retry-After.
- The partner-or-staff choice (`as_partner`): a partner's user who may book, or an institution's staff.
- The audience gates (`require_staff`, `require_administrator`): the pages' own rule
  (`medbook.core.permissions.require_audience`), with their answers (403, or 404 for what a partner must not
  learn exists, such as the institution's reports).
"""

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from django_otp import user_has_device

from medbook.accounts.actor import actor_for, client_ip
from medbook.accounts.models import ApiToken
from medbook.accounts.security import must_enrol
from medbook.accounts.tokens import api_token_find
from medbook.api.ratelimit import rate_limit_take
from medbook.core.errors import NotPermitted
from medbook.core.permissions import Perm, has_perm, require, require_audience
from medbook.core.tenancy import Actor
from medbook.partners.models import Partnership

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def token_actor(request: HttpRequest, raw: str) -> ApiToken | None:
    """The live token with this secret, its actor put on the request (`request.actor`), or None (401).

    The one check of a token's request, for the JSON API and FHIR alike: it takes the request's share of
    the rate limit too.
    """
    found = api_token_find(raw)
    if found is None:
        return None
    actor = actor_for(
        found.user,
        found.membership.organization_id,
        client_ip=client_ip(request),
        request_id=getattr(request, "request_id", ""),
        client_request_id=getattr(request, "client_request_id", ""),
        token_id=found.pk,
    )
    if actor.membership is None or actor.membership.pk != found.membership_id:
        return None
    if actor.partner is not None and _every_partnership_ended(actor.partner):
        return None
    if must_enrol(actor) and not user_has_device(found.user, confirmed=True):
        return None  # the pages send this user to enrolment; no token of theirs may do more
    rate_limit_take(key=f"user:{found.user_id}")  # all of the user's tokens, JSON API and FHIR alike
    if found.read_only and request.method not in SAFE_METHODS:
        raise NotPermitted(_("This token is read-only."))
    request.actor = actor  # type: ignore[attr-defined]
    request.auth = found  # type: ignore[attr-defined]
    translation.activate(found.user.language or settings.LANGUAGE_CODE)
    return found


def bearer_of(request: HttpRequest) -> str:
    """The token of an `Authorization: Bearer <token>` header, or ""."""
    scheme, _space, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _every_partnership_ended(partner) -> bool:
    """A partner that had partnerships and has none pending or active any more: its tokens are dead."""
    statuses = Partnership.objects.filter(partner=partner).order_by().values_list("status", flat=True)
    found = set(statuses.distinct())  # one query: the partner's few statuses
    return bool(found) and not any(status in Partnership.LIVE_STATUSES for status in found)


def as_partner(actor: Actor) -> bool:
    """The one partner-or-staff choice: True for a partner's user who may book for it ("Can book to partner
    institution", P-10), False for an institution's staff; anyone else is refused (403)."""
    if actor.partner is not None:
        if not has_perm(actor, Perm.BOOK_FOR_PARTNER):
            raise NotPermitted()
        return True
    require_staff(actor)
    return False


def require_staff(actor: Actor) -> None:
    """Let through an institution's staff only: a partner's user gets 403, as on the desk's pages."""
    require_audience(actor, "institution")


def require_administrator(actor: Actor, *, hidden: bool = False) -> None:
    """Let through the institution's administrators only (403); with `hidden` a partner's user gets 404,
    as from the pages of what it must not learn exists (the institution's reports)."""
    require_audience(actor, "institution", hidden=hidden)
    require(actor, Perm.ADMINISTER)
