"""What a booking worker needs to know of one institution: plain values, cheap to send to a process."""

from dataclasses import dataclass, field
from datetime import date

from medbook.scheduling.slots import Rule


@dataclass
class ServiceSpec:
    id: int
    name: str
    minutes: int
    price: str
    location_ids: frozenset[int]
    physician_ids: frozenset[int]
    popularity: float


@dataclass
class PhysicianSpec:
    id: int
    rules: dict[int, list[Rule]]  # location id -> weekly rules there
    closed: list[tuple[date, date]]  # leave and holidays (every location)


@dataclass
class PartnershipSpec:
    id: int
    partner_id: int
    channel_id: int
    location_ids: frozenset[int]
    service_ids: frozenset[int]
    active_from_us: int  # may book from (activation)
    active_until_us: int | None  # ended at
    commission_percent: str  # as captured, "" for none (COPY's NULL is written by the caller)
    commission_fixed: str
    paid_at_partner: bool
    agent_ids: tuple[int, ...]
    patient_data_access: bool


@dataclass
class InstitutionSpec:
    index: int
    id: int
    name: str
    time_zone: str
    currency: str
    grid_minutes: int | None
    horizon_days: int
    cutoff_minutes: int
    physicians: list[PhysicianSpec]
    services: list[ServiceSpec]
    channel_ids: dict[str, int]
    staff_ids: tuple[int, ...]
    partnerships: list[PartnershipSpec]
    first_patient_id: int
    patients: int
    bookings: int
    domain: str
    location_ids: list[int] = field(default_factory=list)


@dataclass
class Window:
    """The generated period: a year of history before `today` (00:00 UTC) and a year ahead."""

    first_day: date
    today: date
    last_day: date
    now_s: int  # today 00:00 UTC: everything generated happened before it
