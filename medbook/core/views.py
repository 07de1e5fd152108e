"""The landing page: send each actor where their work is."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from medbook.core.permissions import Perm, has_perm
from medbook.core.tenancy import ActorRequest


@login_required
def home(request: ActorRequest) -> HttpResponse:
    """Staff go to the calendar, a partner's booking users to Book to partner; anyone else sees what they
    may do."""
    if request.actor.institution is not None:
        return redirect("scheduling:calendar")
    if has_perm(request.actor, Perm.BOOK_FOR_PARTNER):
        return redirect("partners:book")
    if request.actor.partner is not None:
        return redirect("partners:home")
    return render(request, "core/home.html")


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; a logged-in user's emails follow the choice (X-5)."""
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        request.user.language = language
        request.user.save(update_fields=["language"])
    return set_language(request)
