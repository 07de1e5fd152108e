"""The JSON API's request and response bodies (their names and fields are the OpenAPI schema's)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from ninja import Field, Schema

from medbook.api.actions import NewPatientIn
from medbook.core.ids import MAX_ID

WHEN = "ISO 8601 date and time with its offset, e.g. 2026-12-09T08:00:00Z"


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
    price: str
    currency: str
    created_at: datetime


class BookingPage(Schema):
    items: list[BookingOut]
    next_cursor: str | None


class BookingIn(Schema):
    location_id: int = Field(..., ge=1, le=MAX_ID)
    physician_id: int = Field(..., ge=1, le=MAX_ID)
    service_id: int = Field(..., ge=1, le=MAX_ID)
    starts_at: str = Field(..., description=WHEN, max_length=40)
    patient_id: int | None = Field(None, ge=1, le=MAX_ID)
    new_patient: NewPatientIn | None = None
    note: str = Field("", max_length=500)
    channel_id: int | None = Field(None, ge=1, le=MAX_ID)


class MoveIn(Schema):
    starts_at: str = Field(..., description=WHEN, max_length=40)


class CancelIn(Schema):
    reason: str = Field("", max_length=300)


class AttendanceIn(Schema):
    status: str = Field(..., description="completed, no_show, or booked (undo, on the day it was recorded)")


class PaymentIn(Schema):
    payment_status: str = Field(..., description="paid, refunded or unpaid (institution-paid bookings)")


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


class PartnershipIn(Schema):
    commission_enabled: bool
    commission_percent: Decimal | None = Field(None, ge=0, le=100, max_digits=5, decimal_places=2)
    commission_fixed: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    payment_location: str = Field(..., description="institution or partner")
    patient_data_access: bool = False
    location_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(..., min_length=1, max_length=500)


class ChannelCellIn(Schema):
    enabled: bool
