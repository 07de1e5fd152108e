"""Legal-entity checks (P-1, B-1): registration and tax numbers, company names and phone numbers.

Partners and institutions alike are legal entities: the partner forms and services
(`medbook.partners.validators`) and the institution's settings use these same checks.
"""

import re
from collections.abc import Callable

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum import get_cc_module
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.hu import anum

# Legal-form words that mark a company name (Hungarian, English, German-speaking and a few others).
LEGAL_FORMS = (
    "kft",
    "zrt",
    "nyrt",
    "bt",
    "kkt",
    "kht",
    "nonprofit kft",
    "ltd",
    "limited",
    "llc",
    "llp",
    "plc",
    "inc",
    "corp",
    "gmbh",
    "ag",
    "sa",
    "srl",
    "s.r.l",
    "s.r.o",
    "sp. z o.o",
    "bv",
    "nv",
)
SOLE_TRADER_MARKS = ("e.v", "ev", "egyéni vállalkozó")
_LEGAL_FORM_RE = re.compile(
    r"(?<![\w.])(" + "|".join(re.escape(form) for form in LEGAL_FORMS) + r")\.?(?![\w])", re.IGNORECASE
)
_SOLE_TRADER_RE = re.compile(
    r"(?<![\w.])(" + "|".join(re.escape(mark) for mark in SOLE_TRADER_MARKS) + r")\.?(?![\w])", re.IGNORECASE
)
HU_TAX_RE = re.compile(r"^(?:HU)?\s*(\d{8})(?:[-\s]?([1-5])[-\s]?(\d{2}))?$", re.IGNORECASE)
HU_REGISTRATION_RE = re.compile(r"^(?:Cg\.?\s*)?(\d{2})[-\s](\d{2})[-\s](\d{6})$", re.IGNORECASE)
HU_COUNTY_CODES = {f"{n:02d}" for n in range(2, 21)} | {"22", "41", "42", "43", "44", "51"}
HU_COURT_CODES = {f"{n:02d}" for n in range(1, 21)}


def not_a_legal_entity(reason: str) -> ValidationError:
    """The one message every natural-person refusal starts with."""
    return ValidationError(
        _("Only legal entities can be partners: %(reason)s") % {"reason": reason}, code="natural_person"
    )


def validate_company_name(name: str) -> str:
    """Refuse a person's name or a sole trader: a partner's name carries its legal form (P-1)."""
    name = " ".join(name.split())
    if _SOLE_TRADER_RE.search(name):
        raise not_a_legal_entity(_("a sole trader (e.v.) is a natural person."))
    if not _LEGAL_FORM_RE.search(name):
        raise not_a_legal_entity(
            _("enter the company name with its legal form, such as Kft., Zrt., Bt., Nyrt., Ltd or GmbH.")
        )
    return name


def an_institution_not_a_legal_entity(reason: str) -> ValidationError:
    """The refusal of a natural person's details on an institution's settings (B-12)."""
    return ValidationError(
        _("An institution must be a legal entity: %(reason)s") % {"reason": reason}, code="natural_person"
    )


def validate_tax_number(
    value: str, country: str, refusal: Callable[[str], ValidationError] = not_a_legal_entity
) -> str:
    """Check the tax number where python-stdnum covers the country; return it normalised.

    `refusal` words the refusal of a private person's tax identifier for whoever the details are of.
    """
    value = value.strip()
    if not value:
        raise ValidationError(_("The tax number is required."), code="required")
    if country == "HU":
        return _hungarian_tax_number(value, refusal)
    module = get_cc_module(country.lower(), "vat")
    if module is None:
        if not re.fullmatch(r"[A-Za-z0-9 ./-]{4,32}", value):
            raise ValidationError(_("Enter a valid tax number."), code="invalid")
        return value
    try:
        return module.validate(value)
    except StdnumError:
        raise ValidationError(_("This is not a valid tax number in this country."), code="invalid") from None


def _hungarian_tax_number(value: str, refusal: Callable[[str], ValidationError]) -> str:
    """Validate an adószám (12345678-1-23, or its eight-digit core / HU VAT form)."""
    if re.fullmatch(r"8\d{9}", re.sub(r"[\s-]", "", value)):
        # The ten-digit tax id (adóazonosító jel) that only private persons have.
        raise refusal(_("this is the tax identifier of a private person."))
    match = HU_TAX_RE.fullmatch(value.replace(".", ""))
    if match is None:
        raise ValidationError(_("Enter the Hungarian tax number as 23456787-2-13."), code="invalid")
    core, vat_code, county = match.groups()
    if core.startswith("8"):
        # Ten-digit personal tax ids (adóazonosító jel) of private persons start with 8.
        raise refusal(_("this is the tax identifier of a private person."))
    if not anum.is_valid(core):
        raise ValidationError(_("This Hungarian tax number is not valid (check digit)."), code="invalid")
    if county is not None and county not in HU_COUNTY_CODES:
        raise ValidationError(
            _("The last two digits of the tax number are not a county code."), code="invalid"
        )
    return f"{core}-{vat_code}-{county}" if county else core


def validate_registration_number(value: str, country: str) -> str:
    """Check the company registration number (Hungary: Cg. NN-NN-NNNNNN); return it normalised."""
    value = value.strip()
    if not value:
        raise ValidationError(_("The registration number is required."), code="required")
    if country == "HU":
        match = HU_REGISTRATION_RE.fullmatch(value)
        if match is None or match.group(1) not in HU_COURT_CODES:
            raise ValidationError(
                _("Enter the company registration number as Cg. 01-09-123456."), code="invalid"
            )
        return "-".join(match.groups())
    if not re.fullmatch(r"[A-Za-z0-9 ./-]{3,40}", value):
        raise ValidationError(_("Enter a valid company registration number."), code="invalid")
    return value.upper()


def registry_key(country: str, registration_number: str) -> str:
    """The key that identifies one legal entity in the whole platform."""
    return f"{country.upper()}:{re.sub(r'[^A-Za-z0-9]', '', registration_number).upper()}"


def validate_phone(value: str, country: str) -> str:
    """Check a phone number with phonenumbers; return it in international format."""
    try:
        number = phonenumbers.parse(value, country)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(_("Enter a valid phone number, such as +36 1 234 5678."), code="invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
