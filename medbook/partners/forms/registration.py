"""Forms of the contact person's registration and of the GTC acceptance."""

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class GTCAcceptForm(forms.Form):
    accept = forms.BooleanField(label=_("I have read and accept the General Terms and Conditions"))


class RegistrationForm(GTCAcceptForm):
    """The contact person's registration: name, password and the GTC (P-3)."""

    full_name = forms.CharField(label=_("Your full name"), max_length=200)
    new_password1 = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new_password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    field_order = ["full_name", "new_password1", "new_password2", "accept"]

    def __init__(self, *args, with_password: bool = True, email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email
        if not with_password:
            del self.fields["new_password1"]
            del self.fields["new_password2"]

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        first, second = cleaned.get("new_password1"), cleaned.get("new_password2")
        if "new_password1" in self.fields and first and second:
            if first != second:
                self.add_error("new_password2", _("The two passwords do not match."))
            else:
                from medbook.accounts.models import User

                probe = User(email=self.email, full_name=cleaned.get("full_name", ""))
                try:
                    password_validation.validate_password(first, probe)
                except ValidationError as error:
                    self.add_error("new_password1", error)
        return cleaned
