"""Operator reads in the Django admin, audited (X-3, F8): the lists and records of patient data."""

from typing import TYPE_CHECKING

from django.contrib import admin
from django.contrib.admin.utils import unquote

from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.tenancy import Actor


def _actor(request) -> Actor:
    """The request's actor (ActorMiddleware), or one built from the user and address."""
    actor = getattr(request, "actor", None)
    if actor is not None:
        return actor
    return Actor(user=request.user, client_ip=request.META.get("REMOTE_ADDR") or None)


# What the mixin is mixed into, for the type checker only (at run time it stays a plain mixin).
if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin
else:
    _ModelAdmin = object


class AuditedReadsAdminMixin(_ModelAdmin):
    """Record each changelist and change (record) page the operator opens, with the search and filters."""

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if getattr(response, "status_code", 200) == 200:
            audit_record(
                actor=_actor(request),
                action=AuditAction.ADMIN_LIST,
                obj=None,
                model=self.model._meta.label,
                query=request.GET.urlencode()[:500],
            )
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and getattr(response, "status_code", 200) in (200, 302):
            audit_record(actor=_actor(request), action=AuditAction.ADMIN_VIEW, obj=obj, method=request.method)
        return response
