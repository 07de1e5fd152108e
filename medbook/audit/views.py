"""The institution admin's read-only audit log page."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from medbook.audit.selectors import audit_actions_for, audit_entries_for
from medbook.core.decorators import requires
from medbook.core.permissions import Perm


@requires(Perm.ADMINISTER)
def entry_list(request: HttpRequest) -> HttpResponse:
    """List who did what, when and from where at the institution, newest first."""
    action = request.GET.get("action", "")
    page = Paginator(audit_entries_for(actor=request.actor, action=action), 50).get_page(
        request.GET.get("page")
    )
    context = {"page": page, "action": action, "actions": audit_actions_for(actor=request.actor)}
    return render(request, "audit/entry_list.html", context)
