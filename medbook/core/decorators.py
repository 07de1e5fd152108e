"""View decorators: log in, then check one permission of the permission table."""

from functools import wraps

from django.contrib.auth.decorators import login_required

from medbook.core.permissions import Perm, require


def requires(perm: Perm):
    """Let through logged-in actors holding the permission; others get 403 (via DomainErrorMiddleware)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            require(request.actor, perm)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
