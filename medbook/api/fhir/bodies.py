"""What a FHIR body carries, read without trusting it: the resource of a create or an update, its objects,
arrays and strings (anything else is a 422 naming where), references, dates and a contained Patient."""

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from medbook.api import actions
from medbook.api.fhir.http import Invalid
from medbook.core.errors import DomainError
from medbook.core.ids import parse_id_or_none
from medbook.core.tenancy import ActorRequest

TAJ_SYSTEM = "urn:oid:1.2.348.1.2.2.1"  # Hungarian social-security (TAJ) number


def ref_id(value: str, kind: str, error: type[DomainError] = Invalid) -> int:
    """The id of a reference `Kind/123` (or a bare `123`)."""
    name, _slash, rest = value.rpartition("/")
    number = parse_id_or_none(rest)
    if (name and name.split("/")[-1] != kind) or number is None:
        raise error(_("Expected a reference to %(kind)s.") % {"kind": kind})
    return number


def day_of(text: str) -> date | None:
    """A date of the body, or None when it is not one (never a 500: 2026-13-45 is not a date)."""
    try:
        return parse_date(text)
    except ValueError:
        return None


def body_of(request: ActorRequest, kind: str) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: [[[[… nested too deep
        raise Invalid(_("The body is not JSON.")) from None
    if not isinstance(data, dict) or data.get("resourceType") != kind:
        raise Invalid(_("The body must be a %(kind)s resource.") % {"kind": kind})
    return data


def object_of(value: Any, where: str) -> dict:
    """A JSON object of the body (absent: empty); anything else is a 422 naming where."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid(_("%(where)s must be a JSON object.") % {"where": where})
    return value


def array_of(value: Any, where: str) -> list:
    """A JSON array of the body (absent: empty); anything else is a 422 naming where."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise Invalid(_("%(where)s must be a JSON array.") % {"where": where})
    return value


def text_of(value: Any, where: str) -> str:
    """A string (or a number) of the body; an object, an array or true is a 422 naming where."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Invalid(_("%(where)s must be a string.") % {"where": where})
    return str(value)


def new_patient_of(data: dict) -> dict | None:
    """A patient entered anew, as a contained Patient resource (name, birthDate, telecom, TAJ identifier)."""
    contained = [
        r
        for r in array_of(data.get("contained"), "contained")
        if isinstance(r, dict) and r.get("resourceType") == "Patient"
    ]
    if not contained:
        return None
    person = contained[0]
    names = array_of(person.get("name"), "Patient.name") or [{}]
    first = object_of(names[0], "Patient.name[0]")
    given = [
        text_of(part, "Patient.name[0].given")
        for part in array_of(first.get("given"), "Patient.name[0].given")
    ]
    family = text_of(first.get("family"), "Patient.name[0].family")
    name = text_of(first.get("text"), "Patient.name[0].text") or " ".join([*given, family]).strip()
    details: dict[str, Any] = {"full_name": name, "email": "", "phone": "", "insurance_id": ""}
    if person.get("birthDate"):
        details["birth_date"] = day_of(text_of(person["birthDate"], "Patient.birthDate")[:40])
        if details["birth_date"] is None:
            raise Invalid(_("The patient's birthDate is not a date."))
    for telecom in array_of(person.get("telecom"), "Patient.telecom"):
        telecom = object_of(telecom, "Patient.telecom[]")
        if telecom.get("system") in ("email", "phone"):
            details[telecom["system"]] = text_of(telecom.get("value"), "Patient.telecom[].value")
    for identifier in array_of(person.get("identifier"), "Patient.identifier"):
        identifier = object_of(identifier, "Patient.identifier[]")
        if identifier.get("system") == TAJ_SYSTEM:
            details["insurance_id"] = text_of(identifier.get("value"), "Patient.identifier[].value")
    return details


def patient_of(data: dict) -> tuple[int | None, actions.NewPatientIn | None]:
    """The patient an Appointment names: a Patient participant's id, or the details of a contained Patient
    entered anew (the booking service refuses neither, or a patient the caller may not book for)."""
    patient_id = None
    for participant in array_of(data.get("participant"), "participant"):
        actor = object_of(object_of(participant, "participant[]").get("actor"), "participant[].actor")
        reference = text_of(actor.get("reference"), "participant[].actor.reference")
        if reference.startswith("Patient/"):
            patient_id = ref_id(reference, "Patient")
    details = new_patient_of(data)
    return patient_id, actions.NewPatientIn(**details) if details else None


@dataclass(frozen=True)
class Parameters:
    """An operation's input: each parameter's values (a `value[x]`, or a `resource`) by name."""

    values: dict[str, list[Any]]

    def first(self, *names: str) -> Any:
        """The first value of the first of these names given (None when none is)."""
        for name in names:
            if self.values.get(name):
                return self.values[name][0]
        return None

    def texts(self) -> dict[str, list[str]]:
        """The primitive values as a search's parameters (a Reference as its reference, a Coding or an
        Identifier as `system|code`); a resource is refused (422)."""
        return {name: [_as_text(value, name) for value in values] for name, values in self.values.items()}


def _as_text(value: Any, name: str) -> str:
    if isinstance(value, dict):
        if "reference" in value:
            return text_of(value["reference"], f"{name}.reference")
        code = value.get("code", value.get("value"))
        if code is not None:
            system = text_of(value.get("system"), f"{name}.system")
            return f"{system}|{text_of(code, name)}" if system else text_of(code, name)
        raise Invalid(_("%(where)s must be a string.") % {"where": name[:60]})
    return text_of(value, name[:60])


def parameters_of(request: ActorRequest, resource: str | None = None) -> Parameters:
    """An operation's Parameters body; a bare `resource` (an Appointment) stands for the one parameter
    `<resource>-resource` (FHIR's rule for an operation with a single resource input)."""
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Invalid(_("The body is not JSON.")) from None
    if resource and isinstance(data, dict) and data.get("resourceType") == resource:
        return Parameters({f"{resource.lower()}-resource": [data]})
    if not isinstance(data, dict) or data.get("resourceType") != "Parameters":
        raise Invalid(_("The body must be a %(kind)s resource.") % {"kind": "Parameters"})
    values: dict[str, list[Any]] = {}
    for parameter in array_of(data.get("parameter"), "parameter"):
        parameter = object_of(parameter, "parameter[]")
        name = text_of(parameter.get("name"), "parameter[].name")[:60]
        given = [key for key in parameter if key == "resource" or key.startswith("value")]
        if len(given) != 1:
            raise Invalid(_("Parameter %(name)s needs exactly one value or resource.") % {"name": name})
        values.setdefault(name, []).append(parameter[given[0]])
    return Parameters(values)
