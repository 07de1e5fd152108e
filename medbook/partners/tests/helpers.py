"""Shared helpers of the partner tests: the "Add New Partner" form data and reading received emails."""

import re
from email.message import EmailMessage
from urllib.parse import urlsplit

from django.urls import reverse

ADD = reverse("partners:partner-create")
LIST = reverse("partners:partner-list")


def partner_form(cast, **overrides) -> dict:
    """A valid "Add New Partner" form for institution A."""
    data = {
        "name": "Westside Physicians Kft.",
        "country": "HU",
        "registration_number": "Cg. 01-09-333333",
        "tax_number": "21234505-2-42",
        "address": "Fő utca 1, 1011 Budapest",
        "contact_name": "Wanda West",
        "contact_email": "Wanda@West.test",
        "contact_phone": "+36 30 123 4567",
        "contact_language": "en",
        "locations": [cast.location_a1.pk],
        "commission_enabled": "True",
        "commission_percent": "12.50",
        "commission_fixed": "",
        "payment_location": "partner",
        "patient_data_access": "False",
    }
    data.update(overrides)
    return data


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def link_in(message: EmailMessage, marker: str) -> str:
    """The path of the first link in the email's text part that contains `marker`."""
    url = next(u for u in re.findall(r"https?://\S+", text_of(message)) if marker in u)
    return urlsplit(url).path
