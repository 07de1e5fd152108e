"""Who may open the reports: the institution's side, and the partner's own statements (X-4).

A partner's user never learns that an institution report exists: every institution report answers 404
to an actor acting for a partner, like a missing page.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404

from medbook.accounts.models import Membership
from medbook.core.errors import NotPermitted
from medbook.core.permissions import Perm, require


def institution_report(perm: Perm):
    """Let through logged-in institution actors with the permission; partners get 404, others 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if request.actor.partner is not None:
                raise Http404()
            require(request.actor, perm)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def partner_statements(view):
    """Let through the administrators of a partner (who settle with the institutions); others get 403."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        actor = request.actor
        if actor.partner is None or actor.role != Membership.Role.PARTNER_ADMIN:
            raise NotPermitted()
        return view(request, *args, **kwargs)

    return wrapper
