"""The partner's checks of P-1 and P-5: its legal details (through `medbook.core.legal`) and its commission."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from medbook.core.legal import (
    not_a_legal_entity,
    registry_key,
    validate_company_name,
    validate_phone,
    validate_registration_number,
    validate_tax_number,
)

__all__ = [
    "commission_errors",
    "not_a_legal_entity",
    "partner_details_errors",
    "registry_key",
    "validate_company_name",
    "validate_phone",
    "validate_registration_number",
    "validate_tax_number",
]


def commission_errors(enabled: bool, percent, fixed) -> dict[str, str]:
    """What is wrong with a commission rule (P-5): exactly one of a 0–100 % or a fixed amount when on."""
    if not enabled:
        return {}
    if percent is None and fixed is None:
        return {"commission_percent": _("Enter either a percentage or a fixed amount per booking.")}
    if percent is not None and fixed is not None:
        return {"commission_fixed": _("Enter either a percentage or a fixed amount, not both.")}
    if percent is not None and not 0 <= percent <= 100:
        return {"commission_percent": _("The percentage must be between 0 and 100.")}
    if fixed is not None and fixed < 0:
        return {"commission_fixed": _("The fixed amount cannot be negative.")}
    return {}


DETAIL_CHECKS = {
    "registration_number": validate_registration_number,
    "tax_number": validate_tax_number,
    "contact_phone": validate_phone,
}


def partner_details_errors(details: dict) -> tuple[dict, dict[str, list[str]]]:
    """A partner's legal details normalised, and what is wrong with them (P-1), field by field.

    The services refuse details with errors, whichever way they came in; the partner form shows the same
    errors next to its fields.
    """
    country = details.get("country") or "HU"
    cleaned, errors = dict(details), {}
    checks = {"name": lambda value, _country: validate_company_name(value), **DETAIL_CHECKS}
    for field, check in checks.items():
        if field not in details:
            continue
        try:
            cleaned[field] = check(details[field] or "", country)
        except ValidationError as error:
            errors[field] = error.messages
    if "contact_email" in details:
        cleaned["contact_email"] = (details["contact_email"] or "").strip().lower()
    return cleaned, errors
