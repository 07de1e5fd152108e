"""The one decorator factory of pages: log in, check the audience and one permission of the table."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse

from medbook.core.permissions import Perm, require, require_audience
from medbook.core.tenancy import ActorRequest

View = Callable[..., HttpResponse]
Gate = Callable[[Any], HttpResponse | None]


def page(
    perm: Perm | None = None,
    *,
    audience: str | None = None,
    hidden: bool = False,
    gate: Gate | None = None,
) -> Callable[[View], View]:
    """Let through logged-in actors of the audience ("institution", "partner" or any) holding `perm`.

    An actor of the wrong audience gets 403, or 404 with `hidden` (a page it should not learn exists); a
    `gate` may answer instead of the view (a partner's pending GTC acceptance).
    """

    def decorator(view: View) -> View:
        @wraps(view)
        @login_required
        def wrapper(request: ActorRequest, *args, **kwargs) -> HttpResponse:
            actor = request.actor
            require_audience(actor, audience, hidden=hidden)
            if perm is not None:
                require(actor, perm)
            if gate is not None:
                answer = gate(request)
                if answer is not None:
                    return answer
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def requires(perm: Perm) -> Callable[[View], View]:
    """A page for any logged-in actor holding the permission (403 otherwise)."""
    return page(perm)
