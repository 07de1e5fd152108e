"""What the partner module's pages share: the partner pages' decorator with its GTC gate."""

from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from medbook.core.decorators import page
from medbook.core.errors import DomainError
from medbook.core.permissions import Perm, has_perm
from medbook.core.tenancy import ActorRequest
from medbook.partners.access import acting_partner, gtc_accepted


def posted(request: ActorRequest):
    """The submitted data of a POST (even an empty one), None for a GET."""
    return request.POST if request.method == "POST" else None


def gtc_gate(request: ActorRequest) -> HttpResponse | None:
    """A partner admin first accepts a newly published GTC; the partner's other users wait for it."""
    actor = request.actor
    if gtc_accepted(acting_partner(actor)):
        return None
    if has_perm(actor, Perm.ACCEPT_GTC):
        return redirect(f"{reverse('partners:gtc-accept')}?{urlencode({'next': request.get_full_path()})}")
    raise DomainError(_("New General Terms and Conditions must be accepted by your administrator first."))


def partner_page(perm: Perm):
    """A page of the partner's side: a user acting for a partner with the permission, past the GTC gate."""
    return page(perm, audience="partner", gate=gtc_gate)


institution_page = page(Perm.ADMINISTER, audience="institution")
