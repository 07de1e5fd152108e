"""The kinds of organisation and the roles of a membership: the vocabulary of the permission table."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgKind(models.TextChoices):
    """What an organisation on the platform is."""

    INSTITUTION = "institution", _("Institution")
    PARTNER = "partner", _("Partner")


class Role(models.TextChoices):
    """A user's role in one organisation."""

    ADMIN = "admin", _("Administrator")
    STAFF = "staff", _("Reception")
    PARTNER_ADMIN = "partner_admin", _("Partner administrator")
    PARTNER_USER = "partner_user", _("Partner user")


PARTNER_ROLES = frozenset({Role.PARTNER_ADMIN, Role.PARTNER_USER})
