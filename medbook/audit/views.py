"""The institution admin's read-only audit log page, each entry's inclusion proof, and the public key."""

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from medbook.audit import signing
from medbook.audit.models import AuditEntry
from medbook.audit.proofs import inclusion_proof
from medbook.audit.selectors import audit_actions_for, audit_entries_for
from medbook.core.decorators import requires
from medbook.core.permissions import Perm
from medbook.core.tenancy import ActorRequest, get_for_actor


@requires(Perm.ADMINISTER)
def entry_list(request: ActorRequest) -> HttpResponse:
    """List who did what, when and from where at the institution, newest first."""
    action = request.GET.get("action", "")
    page = Paginator(audit_entries_for(actor=request.actor, action=action), 50).get_page(
        request.GET.get("page")
    )
    context = {"page": page, "action": action, "actions": audit_actions_for(actor=request.actor)}
    return render(request, "audit/entry_list.html", context)


@requires(Perm.ADMINISTER)
def entry_proof(request: ActorRequest, pk: int) -> HttpResponse:
    """Show that one entry of the institution is in its signed tree head: leaf, audit path, head."""
    entry = get_for_actor(AuditEntry, request.actor, pk)
    context = {"entry": entry, "proof": inclusion_proof(entry), "public_key": signing.public_key_base64()}
    return render(request, "audit/entry_proof.html", context)


def public_key(request: ActorRequest) -> HttpResponse:
    """The public half of the key that signs the audit trees' heads (public: anyone may check a head)."""
    context = {
        "public_key": signing.public_key_base64(),
        "public_key_pem": signing.public_key_pem(),
        "key_id": signing.key_id(),
    }
    return render(request, "audit/public_key.html", context)
