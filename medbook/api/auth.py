"""`Authorization: Bearer <token>`: the token's actor is the actor the pages would resolve for its user.

The same permissions, partner rules, quotas and audit (with the token's id) follow, and one rate limit
counted per user in the database (`ratelimit`). A read-only token
is refused any change (403); a revoked or expired token, a deactivated user or membership, a user who must
enrol in two-factor authentication and has not (any organisation of theirs requires it, or the platform of
administrators), or a partner whose every partnership has ended answers 401 at once.
"""

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from django_otp import user_has_device
from ninja.security import HttpBearer

from medbook.accounts.actor import actor_for, client_ip
from medbook.accounts.models import ApiToken
from medbook.accounts.security import must_enrol
from medbook.accounts.tokens import api_token_find
from medbook.api.ratelimit import rate_limit_take
from medbook.core.errors import NotPermitted
from medbook.partners.models import Partnership

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def token_actor(request: HttpRequest, raw: str) -> ApiToken | None:
    """The live token with this secret, its actor put on the request (`request.actor`), or None (401).

    The one check of a token's request, for the JSON API and FHIR alike.
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


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return token_actor(request, token)


def _every_partnership_ended(partner) -> bool:
    """A partner that had partnerships and has none pending or active any more: its tokens are dead."""
    statuses = Partnership.objects.filter(partner=partner).order_by().values_list("status", flat=True)
    found = set(statuses.distinct())  # one query: the partner's few statuses
    return bool(found) and not any(status in Partnership.LIVE_STATUSES for status in found)
