"""The landing page: send each actor where their work is."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render


@login_required
def home(request):
    """Staff go to the calendar; anyone else sees what they may do."""
    if request.actor.institution is not None:
        return redirect("scheduling:calendar")
    if request.actor.partner is not None:
        return redirect("partners:home")
    return render(request, "core/home.html")
