"""The network around the bookings: institutions, their sites, physicians, services, hours, channels, users,
partners, partnerships with their matrices, GTC versions and acceptances, as rows for COPY and as specs for
the booking workers.

Values pass through the application's own checks and helpers where it has them: tax, registration and
phone numbers (`medbook.core.legal`), the registry key, the built-in channels, the partner channel's code
and the commission capture (`partners.access.terms_of` + `scheduling.services.capture_partner_terms`).
"""

import hashlib
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from stdnum.hu import anum

from bench.gen import names
from bench.gen.scale import Scale
from bench.gen.specs import InstitutionSpec, PartnershipSpec, PhysicianSpec, ServiceSpec, Window
from medbook.core.legal import registry_key, validate_phone, validate_registration_number, validate_tax_number
from medbook.core.roles import OrgKind, Role
from medbook.core.text import fold
from medbook.demo.holidays import hungarian_public_holidays
from medbook.partners.access import terms_of
from medbook.partners.models import Partner, Partnership
from medbook.scheduling.online import ONLINE
from medbook.scheduling.services import DEFAULT_CHANNELS, capture_partner_terms
from medbook.scheduling.slots import Rule

PASSWORD = "Bench-pass-2026"
ZONES = (("Europe/Budapest", "HUF", 85), ("Europe/Vienna", "EUR", 5), ("Europe/Bratislava", "EUR", 5))
ZONES += (("Europe/Bucharest", "RON", 5),)
PRICE_FACTOR = {"HUF": Decimal(1), "EUR": Decimal("0.0025"), "RON": Decimal("0.0125")}
SHIFTS = ((time(8), time(14)), (time(12), time(18)), (time(8), time(16)), (time(7, 30), time(13, 30)))
VARIANTS = ("", " (expressz)", " (gyermek)", " (prémium)", " (kontroll)", " (online előjegyzés)")
STATUS_WEIGHTS = {"active": 88, "pending_approval": 4, "pending_registration": 2, "ended": 4, "declined": 2}


@dataclass
class Network:
    """Rows of the small tables, the specs of the institutions and who everyone is."""

    tables: dict[str, tuple[tuple[str, ...], list[tuple]]] = field(default_factory=dict)
    institutions: list[InstitutionSpec] = field(default_factory=list)
    user_email: dict[int, str] = field(default_factory=dict)
    user_org: dict[int, str] = field(default_factory=dict)
    user_ip: dict[int, str] = field(default_factory=dict)
    org_name: dict[int, str] = field(default_factory=dict)
    admin_of: dict[int, int] = field(default_factory=dict)  # organisation -> its first admin user
    org_events: list[tuple] = field(default_factory=list)  # (us, action, user, institution, type, id, repr)
    logins: list[tuple[str, str]] = field(default_factory=list)


def apportion(total: int, weights: list[float], minimum: int = 1) -> list[int]:
    """`total` split in proportion to the weights, each at least `minimum`, summing to `total` exactly."""
    spare = total - minimum * len(weights)
    if spare < 0:
        raise SystemExit("the scale is too small for its network")
    share = sum(weights)
    counts = [minimum + int(spare * w / share) for w in weights]
    order = sorted(range(len(weights)), key=lambda i: -(spare * weights[i] / share % 1))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


def person(rng: random.Random) -> str:
    first = rng.choice(names.FEMALE_NAMES if rng.random() < 0.55 else names.MALE_NAMES)
    return f"{first} {rng.choice(names.FAMILY_NAMES)}"


def tax_number(rng: random.Random, used: set[str]) -> str:
    """A Hungarian company tax number (adószám) that the application's check accepts."""
    while True:
        body = f"{rng.randrange(1, 8)}{rng.randrange(10**6):06d}"
        core = next(body + str(d) for d in range(10) if anum.is_valid(body + str(d)))
        county = rng.choice(("41", "42", "43", "13", "09", "02"))
        number = validate_tax_number(f"{core}-2-{county}", "HU")
        if core not in used:
            used.add(core)
            return number


def registration_number(rng: random.Random, used: set[str]) -> str:
    while True:
        number = validate_registration_number(
            f"{rng.randrange(1, 21):02d}-09-{rng.randrange(10**6):06d}", "HU"
        )
        if number not in used:
            used.add(number)
            return number


def phone(rng: random.Random, area: str) -> str:
    digits = 7 if area == "1" else 6
    raw = f"+36 {area} {rng.randrange(10 ** (digits - 1), 10**digits)}"
    try:
        return validate_phone(raw, "HU")
    except ValidationError:
        return validate_phone(f"+36 1 {rng.randrange(2_000_000, 9_999_999)}", "HU")


def us_of(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


class Builder:
    """Builds the network once, deterministically from the seed."""

    def __init__(self, scale: Scale, seed: int, window: Window):
        self.scale, self.window = scale, window
        self.rng = random.Random(seed)
        self.net = Network()
        self.ids: dict[str, int] = {}
        self.password = make_password(PASSWORD)  # hashed once, shared by every user
        self.used_tax: set[str] = set()
        self.used_registration: set[str] = set()
        self.start = datetime.combine(window.first_day, time(), tzinfo=UTC)

    def next_id(self, table: str) -> int:
        self.ids[table] = self.ids.get(table, 0) + 1
        return self.ids[table]

    def add(self, table: str, columns: tuple[str, ...], row: tuple) -> None:
        self.net.tables.setdefault(table, (columns, []))[1].append(row)

    def ago(self, low_days: float, high_days: float, before: datetime | None = None) -> datetime:
        """A moment between low and high days before `before` (by default the window's start)."""
        return (before or self.start) - timedelta(seconds=self.rng.uniform(low_days, high_days) * 86400)

    # Users and memberships ------------------------------------------------------------------------------

    def user(self, email: str, full_name: str, org_id: int | None, ip: str, *, operator: bool = False) -> int:
        user_id = self.next_id("accounts_user")
        joined = self.ago(30, 400)
        self.add(
            "accounts_user",
            ("id", "password", "last_login", "is_superuser", "email", "full_name", "language", "is_active")
            + ("is_staff", "date_joined"),
            (user_id, self.password, None, operator, email, full_name, self.rng.choice(("hu", "hu", "en")))
            + (True, operator, joined),
        )
        self.net.user_email[user_id] = email
        self.net.user_ip[user_id] = ip
        if org_id is not None:
            self.net.user_org[user_id] = self.net.org_name[org_id]
        return user_id

    def membership(
        self, user_id: int, org_id: int, role: str, can_book: bool, digest: str = "immediate"
    ) -> None:
        self.add(
            "accounts_membership",
            ("id", "role", "can_book", "is_active", "created_at", "user_id", "organization_id")
            + ("invitation_hash", "invited_at", "email_digest"),
            (self.next_id("accounts_membership"), role, can_book, True, self.ago(0, 30), user_id, org_id)
            + ("", None, digest),
        )
        self.net.admin_of.setdefault(org_id, user_id) if role in (Role.ADMIN, Role.PARTNER_ADMIN) else None

    def organization(self, kind: str, name: str, registration: str, tax: str, address: str) -> int:
        org_id = self.next_id("accounts_organization")
        self.add(
            "accounts_organization",
            ("id", "kind", "name", "registration_number", "tax_number", "address", "country", "created_at")
            + ("require_two_factor",),
            (org_id, kind, name, registration, tax, address, "HU", self.ago(30, 500), False),
        )
        self.net.org_name[org_id] = name
        return org_id

    def build(self) -> Network:
        self.operator = self.user("operator@bench.example", person(self.rng), None, "10.0.0.1", operator=True)
        self.net.logins.append(("operator@bench.example", "platform operator (superuser, /admin/)"))
        self.institutions()
        self.partners()
        return self.net

    # Institutions -----------------------------------------------------------------------------------------

    def institutions(self) -> None:
        scale, rng = self.scale, self.rng
        weights = [rng.lognormvariate(0, 0.5) for _ in range(scale.institutions)]
        locations = apportion(scale.locations, weights)
        physicians = apportion(scale.physicians, weights, 2)
        services = apportion(scale.services, weights, 3)
        patients = apportion(scale.patients, [float(n) for n in physicians], 10)
        bookings = apportion(scale.bookings, [float(n) for n in physicians], 10)
        combos = [(city, kind) for city in names.CITIES for kind in names.INSTITUTION_KINDS]
        rng.shuffle(combos)
        first_patient = 1
        for index in range(scale.institutions):
            (city, area), kind = combos[index % len(combos)]
            name = f"{city} {kind}" + (f" {index // len(combos) + 1}" if index >= len(combos) else "")
            spec = self.institution(
                index, name, city, area, locations[index], physicians[index], services[index]
            )
            spec.first_patient_id, spec.patients, spec.bookings = (
                first_patient,
                patients[index],
                bookings[index],
            )
            first_patient += patients[index]
            self.net.institutions.append(spec)

    def institution(self, index: int, name: str, city: str, area: str, n_loc: int, n_phys: int, n_serv: int):
        rng = self.rng
        address = f"{rng.choice(names.STREETS)} {rng.randrange(1, 120)}, {rng.randrange(1000, 9999)} {city}"
        org_id = self.organization(
            OrgKind.INSTITUTION,
            name,
            registration_number(rng, self.used_registration),
            tax_number(rng, self.used_tax),
            address,
        )
        zone, currency, _weight = rng.choices(ZONES, weights=[z[2] for z in ZONES])[0]
        grid = rng.choices((None, 15, 30), weights=(45, 40, 15))[0]
        horizon = rng.choices((366, 180, 90), weights=(60, 25, 15))[0]
        cutoff = rng.choice((0, 60, 120, 120, 1440))
        online = rng.random() < 0.5
        self.add(
            "institutions_institution",
            ("organization_ptr_id", "time_zone", "currency", "no_show_earns_commission")
            + ("attendance_grace_minutes", "booking_horizon_days", "language", "partner_cutoff_minutes")
            + ("phone", "slot_grid_minutes")
            + ("online_booking", "privacy_notice", "patient_cutoff_minutes", "release_unconfirmed_hours")
            + ("retention_years",),
            (org_id, zone, currency, rng.random() < 0.2, 60, horizon, rng.choice(("hu", "hu", "hu", "en")))
            + (cutoff, phone(rng, area), grid)
            # Half the institutions take online bookings (issue 22), each with its privacy notice.
            + (online, f"{name} keeps your details to book your appointment." if online else "", 0, None)
            + (8,),
        )
        domain = f"{slug(name)}-{index + 1}.example"
        location_ids = self.locations(org_id, name, city, n_loc)
        channels = {}
        for position, (code, label) in enumerate(DEFAULT_CHANNELS):
            channels[code] = self.channel(org_id, code, str(label), None, position)
        staff = self.staff(org_id, domain, len(location_ids))
        physicians, specialty_of = self.physicians(org_id, location_ids, n_phys)
        services = self.services(org_id, currency, physicians, specialty_of, n_serv)
        if online:
            self.online_column(channels[ONLINE], services)
        self.exceptions(physicians)
        return InstitutionSpec(
            index=index,
            id=org_id,
            name=name,
            time_zone=zone,
            currency=currency,
            grid_minutes=grid,
            horizon_days=horizon,
            cutoff_minutes=cutoff,
            physicians=physicians,
            services=services,
            channel_ids=channels,
            staff_ids=staff,
            partnerships=[],
            first_patient_id=0,
            patients=0,
            bookings=0,
            domain=domain,
            location_ids=location_ids,
        )

    def locations(self, org_id: int, name: str, city: str, count: int) -> list[int]:
        suffixes = list(names.LOCATION_SUFFIXES)
        self.rng.shuffle(suffixes)
        ids = []
        for i in range(count):
            label = suffixes[i % len(suffixes)] + (f" {i // len(suffixes) + 1}" if i >= len(suffixes) else "")
            location_id = self.next_id("institutions_location")
            address = f"{self.rng.choice(names.STREETS)} {self.rng.randrange(1, 200)}, {city}"
            self.add(
                "institutions_location",
                ("id", "name", "address", "opening_hours", "is_active", "institution_id"),
                (location_id, f"{name.split()[0]} {label}", address, "H–P 07:30–18:30", True, org_id),
            )
            ids.append(location_id)
        return ids

    def channel(self, org_id: int, code: str, label: str, partner_id: int | None, position: int) -> int:
        channel_id = self.next_id("scheduling_trafficchannel")
        self.add(
            "scheduling_trafficchannel",
            ("id", "code", "name", "is_active", "position", "institution_id", "partner_id"),
            (channel_id, code, label, True, position, org_id, partner_id),
        )
        return channel_id

    def online_column(self, channel_id: int, services: list[ServiceSpec]) -> None:
        """The services an online institution offers on its "Online" channel (Traffic Channels' Online
        column, `scheduling.online`): about two in three, drawn from a generator of their own so that the rest
        of the network stays as earlier seeds made it."""
        rng = random.Random(channel_id)
        for service in services:
            if rng.random() < 2 / 3:
                self.add(
                    "scheduling_trafficchannel_services",
                    ("id", "trafficchannel_id", "service_id"),
                    (self.next_id("scheduling_trafficchannel_services"), channel_id, service.id),
                )

    def staff(self, org_id: int, domain: str, locations: int) -> tuple[int, ...]:
        """An administrator and reception (one per site, two at least): the reception users book."""
        rng = self.rng
        office_ip = f"81.{rng.randrange(0, 256)}.{rng.randrange(0, 256)}.{rng.randrange(1, 255)}"
        admin = self.user(f"admin@{domain}", person(rng), org_id, office_ip)
        self.membership(admin, org_id, Role.ADMIN, False, rng.choice(("immediate", "immediate", "daily")))
        reception = []
        for i in range(max(2, locations + 1)):
            user_id = self.user(f"recepcio{i + 1}@{domain}", person(rng), org_id, office_ip)
            self.membership(user_id, org_id, Role.STAFF, False)
            reception.append(user_id)
        if len(self.net.logins) < 3:
            self.net.logins.append((f"admin@{domain}", f"administrator of {self.net.org_name[org_id]}"))
            self.net.logins.append((f"recepcio1@{domain}", f"reception of {self.net.org_name[org_id]}"))
        return tuple(reception)

    def physicians(self, org_id: int, location_ids: list[int], count: int):
        rng = self.rng
        all_specialties = list(names.SPECIALTIES)
        specialties = rng.sample(all_specialties, max(2, min(len(all_specialties), count // 3 + 1)))
        physicians, specialty_of = [], {}
        for i in range(count):
            physician_id = self.next_id("institutions_physician")
            specialty = specialties[i % len(specialties)]
            self.add(
                "institutions_physician",
                ("id", "full_name", "specialty", "is_active", "institution_id"),
                (physician_id, f"Dr. {person(rng)}", specialty, True, org_id),
            )
            where = rng.sample(location_ids, 2 if len(location_ids) > 1 and rng.random() < 0.3 else 1)
            rules = self.working_hours(physician_id, where)
            for location_id in where:
                self.add(
                    "institutions_physician_locations",
                    ("id", "physician_id", "location_id"),
                    (self.next_id("institutions_physician_locations"), physician_id, location_id),
                )
            physicians.append(PhysicianSpec(id=physician_id, rules=rules, closed=[]))
            specialty_of[physician_id] = specialty
        return physicians, specialty_of

    def working_hours(self, physician_id: int, location_ids: list[int]) -> dict[int, list[Rule]]:
        rng = self.rng
        weekdays = [0, 1, 2, 3, 4]
        if rng.random() < 0.3:
            weekdays.remove(rng.choice(weekdays))
        days_at = {location_ids[0]: weekdays}
        if len(location_ids) == 2:
            split = rng.randrange(1, len(weekdays))
            days_at = {location_ids[0]: weekdays[:split], location_ids[1]: weekdays[split:]}
        if rng.random() < 0.1:
            days_at[location_ids[0]] = days_at[location_ids[0]] + [5]
        rules: dict[int, list[Rule]] = {}
        for location_id, days in days_at.items():
            shift = rng.choice(SHIFTS)
            for weekday in days:
                start, end = (time(8), time(12)) if weekday == 5 else shift
                rules.setdefault(location_id, []).append(Rule(weekday, start, end))
                self.add(
                    "scheduling_workinghours",
                    ("id", "weekday", "start_time", "end_time", "valid_from", "valid_until")
                    + ("location_id", "physician_id"),
                    (self.next_id("scheduling_workinghours"), weekday, start, end, None, None, location_id)
                    + (physician_id,),
                )
        return rules

    def services(self, org_id, currency, physicians, specialty_of, count) -> list[ServiceSpec]:
        rng = self.rng
        by_specialty: dict[str, list[PhysicianSpec]] = {}
        for physician in physicians:
            by_specialty.setdefault(specialty_of[physician.id], []).append(physician)
        catalogue = [(specialty, item) for specialty in by_specialty for item in names.SPECIALTIES[specialty]]
        services = []
        for i in range(count):
            specialty, (label, minutes, base) = catalogue[i % len(catalogue)]
            variant = VARIANTS[(i // len(catalogue)) % len(VARIANTS)]
            price = (
                Decimal(base) * Decimal(1 + 0.1 * (i // len(catalogue))) * PRICE_FACTOR[currency]
            ).quantize(Decimal(1) if currency == "HUF" else Decimal("0.01"))
            if currency == "HUF":
                price = (price / 500).quantize(Decimal(1)) * 500
            givers = by_specialty[specialty]
            if len(givers) > 2 and rng.random() < 0.3:
                givers = rng.sample(givers, max(1, len(givers) * 2 // 3))
            where = sorted({location for giver in givers for location in giver.rules})
            if len(where) > 1 and rng.random() < 0.2:
                where = [rng.choice(where)]
            service_id = self.next_id("institutions_service")
            self.add(
                "institutions_service",
                ("id", "name", "duration_minutes", "price", "currency", "is_active", "institution_id"),
                (service_id, label + variant, minutes, price, currency, True, org_id),
            )
            for location_id in where:
                self.add(
                    "institutions_service_locations",
                    ("id", "service_id", "location_id"),
                    (self.next_id("institutions_service_locations"), service_id, location_id),
                )
            for giver in givers:
                self.add(
                    "institutions_service_physicians",
                    ("id", "service_id", "physician_id"),
                    (self.next_id("institutions_service_physicians"), service_id, giver.id),
                )
            services.append(
                ServiceSpec(
                    id=service_id,
                    name=label + variant,
                    minutes=minutes,
                    price=str(price),
                    location_ids=frozenset(where),
                    physician_ids=frozenset(g.id for g in givers),
                    popularity=rng.lognormvariate(0, 0.7) / (1 + len(variant) / 10),
                )
            )
        return services

    def exceptions(self, physicians: list[PhysicianSpec]) -> None:
        """Public holidays for everyone and two leaves a year each (every location: `location` empty)."""
        window, rng = self.window, self.rng
        years = range(window.first_day.year, window.last_day.year + 1)
        holidays = [
            (day, label)
            for year in years
            for day, label in hungarian_public_holidays(year)
            if window.first_day <= day <= window.last_day
        ]
        columns = ("id", "kind", "date_from", "date_until", "note", "location_id", "physician_id")
        span = (window.last_day - window.first_day).days
        for physician in physicians:
            for day, label in holidays:
                row = (
                    self.next_id("scheduling_scheduleexception"),
                    "holiday",
                    day,
                    day,
                    label,
                    None,
                    physician.id,
                )
                self.add("scheduling_scheduleexception", columns, row)
                physician.closed.append((day, day))
            for _leave in range(2 * max(1, span // 365)):
                first = window.first_day + timedelta(days=rng.randrange(span - 14))
                last = first + timedelta(days=rng.randrange(4, 12))
                self.add(
                    "scheduling_scheduleexception",
                    columns,
                    (
                        self.next_id("scheduling_scheduleexception"),
                        "leave",
                        first,
                        last,
                        "Szabadság",
                        None,
                        physician.id,
                    ),
                )
                physician.closed.append((first, last))

    # Partners ---------------------------------------------------------------------------------------------

    def partners(self) -> None:
        scale, rng = self.scale, self.rng
        gtc = self.gtc_versions()
        partner_names: set[str] = set()
        partner_ids = []
        for _index in range(scale.partners):
            while True:
                label = f"{rng.choice(names.COMPANY_PREFIXES)} {rng.choice(names.COMPANY_WORDS)}"
                label += f" {rng.choice(names.LEGAL_FORMS)}"
                if label not in partner_names:
                    break
                label = label.replace(" ", f" {rng.randrange(2, 99)} ", 1)
                if label not in partner_names:
                    break
            partner_names.add(label)
            partner_ids.append(self.partner(label))
        pairs = self.pairs(partner_ids)
        first_activation: dict[int, datetime] = {}
        for (institution, partner_id), status in pairs.items():
            activated = self.partnership(institution, partner_id, status)
            if activated is not None:
                first_activation[partner_id] = min(activated, first_activation.get(partner_id, activated))
        self.acceptances(partner_ids, first_activation, gtc)

    def partner(self, label: str) -> int:
        rng = self.rng
        registration = registration_number(rng, self.used_registration)
        address = f"{rng.choice(names.STREETS)} {rng.randrange(1, 150)}, {rng.choice(names.CITIES)[0]}"
        org_id = self.organization(
            OrgKind.PARTNER, label, registration, tax_number(rng, self.used_tax), address
        )
        domain = f"{slug(label)}-{org_id}.example"
        contact = person(rng)
        ip = f"94.{rng.randrange(0, 256)}.{rng.randrange(0, 256)}.{rng.randrange(1, 255)}"
        admin = self.user(f"kapcsolat@{domain}", contact, org_id, ip)
        self.membership(admin, org_id, Role.PARTNER_ADMIN, True)
        agents = [admin]
        for i in range(rng.randrange(1, 5)):
            agent = self.user(f"ugynok{i + 1}@{domain}", person(rng), org_id, ip)
            self.membership(agent, org_id, Role.PARTNER_USER, True, rng.choice(("immediate", "hourly")))
            agents.append(agent)
        if rng.random() < 0.5:
            viewer = self.user(f"megtekinto@{domain}", person(rng), org_id, ip)
            self.membership(viewer, org_id, Role.PARTNER_USER, False)
        verified_at = self.ago(400, 500)
        self.add(
            "partners_partner",
            ("organization_ptr_id", "registry_key", "contact_name", "contact_email", "contact_phone")
            + (
                "contact_language",
                "verification_note",
                "verification_status",
                "verified_at",
                "verified_by_id",
            ),
            (org_id, registry_key("HU", registration), contact, f"kapcsolat@{domain}", phone(rng, "1"))
            + (
                rng.choice(("hu", "en")),
                "Cégjegyzékben ellenőrizve.",
                "verified",
                verified_at,
                self.operator,
            ),
        )
        self.partner_agents = getattr(self, "partner_agents", {})
        self.partner_agents[org_id] = tuple(agents)
        if len(self.net.logins) < 5:
            self.net.logins.append((f"kapcsolat@{domain}", f"partner administrator of {label}"))
            self.net.logins.append((f"ugynok1@{domain}", f"{label} user who may book"))
        return org_id

    def pairs(self, partner_ids: list[int]) -> dict[tuple[int, int], str]:
        """Which partner works with which institution: each partner at least once and active there."""
        rng, institutions = self.rng, self.net.institutions
        weights = [len(spec.physicians) for spec in institutions]
        pairs: dict[tuple[int, int], str] = {}
        for partner_id in partner_ids:
            spec = rng.choices(institutions, weights=weights)[0]
            pairs[(spec.index, partner_id)] = "active"
        statuses, status_weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
        while len(pairs) < self.scale.partnerships:
            key = (rng.choices(institutions, weights=weights)[0].index, rng.choice(partner_ids))
            if key not in pairs:
                pairs[key] = rng.choices(statuses, weights=status_weights)[0]
        return pairs

    def partnership(self, index: int, partner_id: int, status: str) -> datetime | None:
        rng, spec = self.rng, self.net.institutions[index]
        partnership_id = self.next_id("partners_partnership")
        channel_id = self.channel(
            spec.id, f"partner-{partner_id}", self.net.org_name[partner_id], partner_id, 100
        )  # medbook.partners.services.contract.partner_channel's code and position
        kind = rng.choices(("percent", "fixed", "none"), weights=(60, 25, 15))[0]
        percent = Decimal(rng.choice((5, 8, 10, 12, 15))) if kind == "percent" else None
        fixed = None
        if kind == "fixed":
            fixed = Decimal(rng.choice((1000, 1500, 2000, 2500, 3000))) * PRICE_FACTOR[spec.currency]
            fixed = fixed.quantize(Decimal("0.01"))
        paid_at_partner = rng.random() < 0.2
        access = rng.random() < 0.5
        now = datetime.combine(self.window.today, time(), tzinfo=UTC)
        activated = ended = None
        if status in ("active", "ended"):
            activated = self.ago(30, 400) if rng.random() < 0.8 else self.ago(-330, -10)
        if status == "ended":
            ended = activated + (now - timedelta(days=7) - activated) * rng.uniform(0.3, 0.95)
        created = (activated or self.ago(-360, -300)) - timedelta(days=rng.uniform(3, 30))
        if status.startswith("pending"):
            created = now - timedelta(days=rng.uniform(2, 60))
        admin = self.net.admin_of[spec.id]
        contact = next(row for row in self.net.tables["partners_partner"][1] if row[0] == partner_id)
        self.add(
            "partners_partnership",
            (
                "id",
                "status",
                "commission_enabled",
                "commission_percent",
                "commission_fixed",
                "payment_location",
            )
            + ("patient_data_access", "contact_name", "contact_email", "contact_phone", "contact_language")
            + ("created_at", "activated_at", "ended_at", "channel_id", "institution_id", "invited_by_id")
            + ("partner_id",),
            (
                partnership_id,
                status,
                kind != "none",
                percent,
                fixed,
                "partner" if paid_at_partner else "institution",
            )
            + (access, contact[2], contact[3], contact[4], contact[5], created, activated, ended, channel_id)
            + (spec.id, admin, partner_id),
        )
        locations = rng.sample(spec.location_ids, rng.randrange(1, len(spec.location_ids) + 1))
        services = rng.sample(spec.services, max(1, round(len(spec.services) * rng.uniform(0.3, 0.8))))
        for location_id in locations:
            self.add(
                "partners_partnership_locations",
                ("id", "partnership_id", "location_id"),
                (self.next_id("partners_partnership_locations"), partnership_id, location_id),
            )
        for service in services:
            self.add(
                "partners_partnership_services",
                ("id", "partnership_id", "service_id"),
                (self.next_id("partners_partnership_services"), partnership_id, service.id),
            )
        nonce = hashlib.sha256(f"{partnership_id}-{rng.random()}".encode()).hexdigest()
        self.add(
            "partners_partnerinvitation",
            ("id", "email", "nonce_hash", "created_at", "used_at", "revoked_at", "partnership_id"),
            (
                self.next_id("partners_partnerinvitation"),
                contact[3],
                nonce,
                created,
                activated,
                None,
                partnership_id,
            ),
        )
        repr_ = f"{self.net.org_name[partner_id]} @ {spec.name}"
        self.net.org_events.append(
            (us_of(created), "partner.invite", admin, spec.id, "partners.Partnership", partnership_id, repr_)
        )
        if activated is None:
            return None
        captured = self.captured_terms(
            partnership_id, partner_id, spec.id, channel_id, (kind, percent, fixed, paid_at_partner)
        )
        captured_percent, captured_fixed, captures_paid_at_partner = captured
        spec.partnerships.append(
            PartnershipSpec(
                id=partnership_id,
                partner_id=partner_id,
                channel_id=channel_id,
                location_ids=frozenset(locations),
                service_ids=frozenset(service.id for service in services),
                active_from_us=us_of(activated),
                active_until_us=us_of(ended) if ended is not None else None,
                commission_percent="" if captured_percent is None else str(captured_percent),
                commission_fixed="" if captured_fixed is None else str(captured_fixed),
                paid_at_partner=captures_paid_at_partner,
                agent_ids=self.partner_agents[partner_id],
                patient_data_access=access,
            )
        )
        return activated

    def captured_terms(self, partnership_id, partner_id, institution_id, channel_id, terms):
        """What a booking under the partnership captures, decided by the application's own two functions."""
        kind, percent, fixed, paid_at_partner = terms
        partnership = Partnership(
            pk=partnership_id,
            partner=Partner(pk=partner_id, name=self.net.org_name[partner_id]),
            institution_id=institution_id,
            channel_id=channel_id,
            commission_enabled=kind != "none",
            commission_percent=percent,
            commission_fixed=fixed,
            payment_location="partner" if paid_at_partner else "institution",
        )
        booking = SimpleNamespace(payment_status="unpaid")
        capture_partner_terms(booking, terms_of(partnership))  # type: ignore[arg-type]
        return (
            booking.commission_percent,
            booking.commission_fixed,
            booking.payment_status == "paid_at_partner",
        )

    def gtc_versions(self) -> list[tuple[int, datetime]]:
        now = datetime.combine(self.window.today, time(), tzinfo=UTC)
        versions = [(1, "2024-1", self.ago(450, 460)), (2, "2025-2", now - timedelta(days=120))]
        for version_id, label, published in versions:
            self.add(
                "partners_gtcversion",
                ("id", "version", "text", "published_at"),
                (
                    version_id,
                    label,
                    f"A MedBook partnerprogram Általános Szerződési Feltételei ({label}).",
                    published,
                ),
            )
        return [(version_id, published) for version_id, _label, published in versions]

    def acceptances(self, partner_ids, first_activation, gtc) -> None:
        rng = self.rng
        for partner_id in partner_ids:
            admin = self.net.admin_of[partner_id]
            start = first_activation.get(partner_id)
            if start is None:
                continue
            for index, (version_id, published) in enumerate(gtc):
                superseded = index + 1 < len(gtc) and gtc[index + 1][1] <= start
                if superseded:
                    continue
                accepted = max(published, start - timedelta(days=1)) + timedelta(hours=rng.uniform(1, 72))
                self.add(
                    "partners_gtcacceptance",
                    ("id", "accepted_at", "ip_address", "partner_id", "user_id", "version_id"),
                    (self.next_id("partners_gtcacceptance"), accepted, self.net.user_ip[admin], partner_id)
                    + (admin, version_id),
                )
                self.net.org_events.append(
                    (
                        us_of(accepted),
                        "gtc.accept",
                        admin,
                        None,
                        "partners.GTCVersion",
                        version_id,
                        str(version_id),
                    )
                )


def build_network(scale: Scale, seed: int, window: Window) -> Network:
    return Builder(scale, seed, window).build()


def window_for(today: date) -> Window:
    """A year of history up to `today` and a year ahead."""
    start = datetime.combine(today, time(), tzinfo=UTC)
    return Window(
        first_day=today - timedelta(days=365),
        today=today,
        last_day=today + timedelta(days=364),
        now_s=int(start.timestamp()),
    )
