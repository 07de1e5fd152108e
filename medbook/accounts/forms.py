"""The members page's forms: invite a person, change a member's role and permissions."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from medbook.accounts.models import Membership
from medbook.core.roles import OrgKind, Role

CAN_BOOK = _("Can book to partner institution")


class MemberForm(forms.Form):
    """A member's role: for an institution administrator or reception; for a partner the administrator
    option and "Can book to partner institution" (P-10). Inviting adds name, email and language."""

    def __init__(self, *args, kind: str, invite: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        if invite:
            self.fields["full_name"] = forms.CharField(label=_("Full name"), max_length=200)
            self.fields["email"] = forms.EmailField(label=_("Email"))
        if kind == OrgKind.PARTNER:
            self.fields["can_book"] = forms.BooleanField(label=CAN_BOOK, required=False, initial=invite)
            self.fields["is_admin"] = forms.BooleanField(
                label=_("Administrator (manages users)"), required=False
            )
        else:
            self.fields["role"] = forms.ChoiceField(
                label=_("Role"),
                choices=[(role.value, role.label) for role in (Role.ADMIN, Role.STAFF)],
                initial=Role.STAFF,
            )
        if invite:
            self.fields["language"] = forms.ChoiceField(
                label=_("Language of the emails"), choices=settings.LANGUAGES, initial=settings.LANGUAGE_CODE
            )

    @classmethod
    def initial_for(cls, membership) -> dict:
        return {
            "role": membership.role,
            "can_book": membership.can_book,
            "is_admin": membership.role == Role.PARTNER_ADMIN,
        }

    @property
    def permissions(self) -> dict:
        """The role and "Can book to partner institution" the form chose."""
        data = self.cleaned_data
        if self.kind == OrgKind.PARTNER:
            role = Role.PARTNER_ADMIN if data.get("is_admin") else Role.PARTNER_USER
            return {"role": role, "can_book": bool(data.get("can_book"))}
        return {"role": data["role"], "can_book": False}

    @property
    def invitation(self) -> dict:
        data = self.cleaned_data
        return {"email": data["email"], "full_name": data["full_name"], "language": data["language"]}


class EmailDigestForm(forms.Form):
    """How the member gets booking e-mails for the organisation: each at once, or an hourly or daily digest."""

    email_digest = forms.ChoiceField(
        label=_("Booking e-mails"),
        choices=Membership.Digest.choices,
        widget=forms.RadioSelect,
        help_text=_("Appointments booked, moved or cancelled by the other side of a partnership."),
    )
