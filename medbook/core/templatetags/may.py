"""`{% if actor|may:"perm" %}`: show a link only to an actor whose role grants the page's permission."""

from django import template

from medbook.core.permissions import Perm, has_perm
from medbook.core.tenancy import Actor

register = template.Library()


@register.filter
def may(actor: Actor | None, perm: str) -> bool:
    """Whether the actor holds the permission named by its value (medbook.core.permissions.Perm)."""
    return has_perm(actor, Perm(perm))
