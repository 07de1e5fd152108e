"""The JSON API's request and response bodies (their names and fields are the OpenAPI schema's)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.utils.translation import gettext_noop
from ninja import Field, Schema
from pydantic import BeforeValidator, ConfigDict, StrictBool

from medbook.api.actions import NewPatientIn
from medbook.api.bodies import Moment, ObjectBody, json_integer, matching, pattern_schema
from medbook.core.ids import MAX_ID

WHEN = "ISO 8601 date and time with its offset, e.g. 2026-12-09T08:00:00Z"
MAX_LOCATION_IDS = 500  # the most locations one partnership's settings name


class MeOut(Schema):
    email: str
    name: str
    organization_id: int
    organization: str
    kind: str
    role: str
    can_book: bool
    read_only: bool


class InstitutionOut(Schema):
    id: int
    name: str
    time_zone: str
    currency: str
    phone: str


class LocationOut(Schema):
    id: int
    institution_id: int
    name: str
    address: str


class PhysicianOut(Schema):
    id: int
    institution_id: int
    name: str
    specialty: str
    location_ids: list[int]


class ServiceOut(Schema):
    id: int
    institution_id: int
    name: str
    duration_minutes: int
    price: str
    currency: str
    location_ids: list[int]
    physician_ids: list[int]


class SlotOut(Schema):
    starts_at: datetime
    ends_at: datetime
    location_id: int
    physician_id: int
    service_id: int


class SlotPage(Schema):
    items: list[SlotOut]
    next_cursor: str | None


class PatientOut(Schema):
    id: int
    name: str
    birth_date: date | None


class BookingOut(Schema):
    id: int
    institution_id: int
    location_id: int
    physician_id: int
    service_id: int
    patient: PatientOut
    starts_at: datetime
    ends_at: datetime
    status: str
    payment_status: str
    partner_id: int | None
    channel: str
    note: str
    cancel_reason: str
    # When the patient confirmed, through their e-mailed link, a partner's booking made for them (P-16).
    patient_confirmed_at: datetime | None
    # An online booking of a repeat no-show the desk has still to approve (issue 22).
    awaiting_approval: bool
    price: str
    currency: str
    created_at: datetime


class BookingPage(Schema):
    items: list[BookingOut]
    next_cursor: str | None


# The ids a request names: positive, and within a bigint (a larger one is a 422, never a 500).
# A JSON number that is an integer (2 or 2.0, as JSON Schema's `integer` admits), never a string or a boolean.
Id = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(json_integer)]
# The values the desk may record and a partnership's payment location, declared as enums (the domain's own
# lists: `policy.ATTENDANCE_CHOICES`, `policy.PAYMENT_STEPS`, `Partnership.PaymentLocation`; a test keeps
# them equal).
AttendanceStatus = Literal["completed", "no_show", "booked"]
PaymentStep = Literal["unpaid", "paid", "refunded"]
PaymentLocation = Literal["institution", "partner"]


class BookingIn(ObjectBody):
    # The patient: one the caller's search returned (`patient_id`) or one entered anew (`new_patient`).
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["patient_id"], "properties": {"patient_id": {"type": "integer"}}},
                {"required": ["new_patient"], "properties": {"new_patient": {"type": "object"}}},
            ]
        }
    )

    location_id: Id
    physician_id: Id
    service_id: Id
    starts_at: Moment = Field(..., description=WHEN)
    patient_id: Id | None = None
    new_patient: NewPatientIn | None = None
    note: str = Field("", max_length=500)
    channel_id: Id | None = None


class MoveIn(ObjectBody):
    starts_at: Moment = Field(..., description=WHEN)


class CancelIn(ObjectBody):
    reason: str = Field("", max_length=300)


class AttendanceIn(ObjectBody):
    status: AttendanceStatus = Field(
        ..., description="completed, no_show, or booked (undo, on the day it was recorded)"
    )


class PaymentIn(ObjectBody):
    payment_status: PaymentStep = Field(
        ..., description="paid, refunded or unpaid (institution-paid bookings)"
    )


class PartnershipOut(Schema):
    id: int
    partner_id: int
    partner: str
    status: str
    commission_percent: str | None
    commission_fixed: str | None
    paid_at_partner: bool
    patient_data_access: bool
    location_ids: list[int]
    service_ids: list[int]
    channel_id: int


class ChannelOut(Schema):
    id: int
    name: str
    partner_id: int | None
    active: bool
    service_ids: list[int] | None = Field(
        None, description="for a partner's channel: the services it may book"
    )


class TrafficRowOut(Schema):
    id: int | None
    name: str
    bookings: int
    booked: int
    completed: int
    cancelled: int
    no_show: int
    value: str
    commission: str


class TrafficOut(Schema):
    currency: str
    channels: list[TrafficRowOut]
    partners: list[TrafficRowOut]


class SettlementOut(Schema):
    partner_id: int
    partner: str
    held_bookings: int
    adjustments: int
    not_settled: int
    value: str
    commission: str
    owed_to_partner: str
    owed_to_institution: str
    net: str
    net_owed_by: str = Field(..., description='"institution", "partner", or "" when nothing is owed')
    closed_number: int | None


# Amounts are strings with at most two decimals, as the API writes them (0 … 100 for a percentage).
PERCENT = r"^(100(\.00?)?|[0-9]{1,2}(\.[0-9]{1,2})?)$"
Percent = Annotated[
    Decimal,
    matching(PERCENT, gettext_noop("Enter a percentage such as 12.50."), Decimal),
    pattern_schema(PERCENT),
]
AMOUNT = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"
Amount = Annotated[
    Decimal,
    matching(AMOUNT, gettext_noop("Enter an amount such as 1500.00."), Decimal),
    pattern_schema(AMOUNT),
]


class PartnershipIn(ObjectBody):
    commission_enabled: StrictBool
    commission_percent: Percent | None = None
    commission_fixed: Amount | None = None
    payment_location: PaymentLocation = Field(..., description="institution or partner")
    patient_data_access: StrictBool = False
    location_ids: list[Id] = Field(..., min_length=1, max_length=MAX_LOCATION_IDS)


class ChannelCellIn(ObjectBody):
    enabled: StrictBool


# A patient's export (GDPR Art. 15, 20; issue 24): the document `medbook.patient-export/1` of docs/privacy.md,
# as the Data rights page's JSON download gives it. Its times stay the strings it holds (ISO 8601 in UTC).
EXPORTED = "ISO 8601 date and time in UTC, as exported"


class ExportControllerOut(Schema):
    name: str
    registration_number: str
    tax_number: str
    address: str
    phone: str


class ExportPatientOut(Schema):
    id: int
    full_name: str
    birth_date: str | None = Field(..., description="YYYY-MM-DD")
    email: str
    phone: str
    insurance_id: str
    registered_by_partner: bool
    registered_at: str = Field(..., description=EXPORTED)
    restricted_at: str | None = Field(..., description=EXPORTED)
    erased_at: str | None = Field(..., description=EXPORTED)


class ExportNamedOut(Schema):
    id: int
    name: str


class ExportPersonOut(Schema):
    name: str
    email: str


class ExportEnteredOut(Schema):
    name: str
    birth_date: str | None


class ExportBookingOut(Schema):
    id: int
    starts_at: str = Field(..., description=EXPORTED)
    ends_at: str = Field(..., description=EXPORTED)
    location: str
    physician: str
    service: str
    status: str
    payment_status: str
    price: str
    currency: str
    channel: str
    partner: ExportNamedOut | None
    booked_by: ExportPersonOut | None
    booked_at: str = Field(..., description=EXPORTED)
    attendance_recorded_at: str | None
    cancelled_at: str | None
    cancel_reason: str
    note: str
    entered_by_partner: ExportEnteredOut | None


class ExportEmailOut(Schema):
    id: int
    kind: str
    to: str
    subject: str
    status: str
    written_at: str = Field(..., description=EXPORTED)
    sent_at: str | None
    text: str


class ExportAuditOut(Schema):
    id: int
    at: str = Field(..., description=EXPORTED)
    who: str
    acting_for: str
    action: str
    object_type: str
    object_id: str
    object: str
    ip_address: str | None
    details: dict[str, Any]


class ExportPartnerOut(Schema):
    id: int
    name: str
    why: list[str] = Field(..., description='"booked", "patient_data_access"')
    access_since: str | None
    access_until: str | None


class ExportRequestOut(Schema):
    kind: str
    received_on: str
    due_on: str
    answered_at: str | None
    outcome: str


class PatientExportOut(Schema):
    schema_: str = Field(..., alias="schema", description='"medbook.patient-export/1"')
    generated_at: str = Field(..., description=EXPORTED)
    time_zone: str
    controller: ExportControllerOut
    patient: ExportPatientOut
    bookings: list[ExportBookingOut]
    emails: list[ExportEmailOut]
    audit: list[ExportAuditOut]
    partners: list[ExportPartnerOut]
    requests: list[ExportRequestOut]
