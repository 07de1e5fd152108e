"""Fill the database with a demo: two institutions, their users, calendars, patients and bookings."""

import random
import socket
import time as clock
import unicodedata
from datetime import date, time, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from medbook.accounts.models import Membership, User
from medbook.core.errors import DomainError
from medbook.core.tenancy import Actor
from medbook.demo.history import demo_history, past_bookings
from medbook.demo.holidays import next_public_holiday
from medbook.demo.partners import PARTNER_LOGINS, demo_partners
from medbook.institutions.models import Institution, Location, Physician, Service
from medbook.institutions.services import SETTINGS_FIELDS, institution_settings_update
from medbook.patients.models import Patient
from medbook.scheduling.models import Booking, ScheduleException, TrafficChannel, WorkingHours
from medbook.scheduling.online import online_service_ids, online_service_set
from medbook.scheduling.selectors import available_slots
from medbook.scheduling.services import booking_create, channels_create_defaults, institution_create

PASSWORD = "Demo-pass-2026"
SEED = 2026
PATIENT_COUNT = 30
BOOKING_TARGET = 40
BOOKING_DAYS = 21
CHANNEL_WEIGHTS = {"online": 5, "phone": 3, "reception": 2}
MON_FRI = (0, 1, 2, 3, 4)
MORNING = (time(8), time(16))
AFTERNOON = (time(12), time(18))


class Shift(NamedTuple):
    location: str
    weekdays: tuple[int, ...]
    hours: tuple[time, time]


class PhysicianPlan(NamedTuple):
    full_name: str
    specialty: str
    shifts: tuple[Shift, ...]


class ServicePlan(NamedTuple):
    name: str
    specialties: tuple[str, ...]
    minutes: int
    price: Decimal
    only_at: tuple[str, ...] = ()


class InstitutionPlan(NamedTuple):
    name: str
    registration_number: str
    tax_number: str
    address: str
    phone: str
    locations: tuple[tuple[str, str, str], ...]
    physicians: tuple[PhysicianPlan, ...]
    services: tuple[ServicePlan, ...]


CENTRAL, BUDA, PEST = "Northside Central", "Northside Buda", "Northside Pest"
CARDIOLOGY, DERMATOLOGY, ORTHOPAEDICS = "Cardiology", "Dermatology", "Orthopaedics"

NORTHSIDE = InstitutionPlan(
    name="Northside Clinic",
    registration_number="01-09-876543",
    tax_number="26184027-2-41",
    address="Váci út 45, 1134 Budapest",
    phone="+36 1 234 5600",
    locations=(
        (CENTRAL, "Váci út 45, 1134 Budapest", "Mon–Fri 07:30–18:30"),
        (BUDA, "Budaörsi út 12, 1118 Budapest", "Mon–Fri 07:30–18:30"),
        (PEST, "Üllői út 78, 1082 Budapest", "Mon–Fri 07:30–18:30"),
    ),
    physicians=(
        PhysicianPlan("Dr. Péter Nagy", CARDIOLOGY, (Shift(CENTRAL, MON_FRI, MORNING),)),
        PhysicianPlan(
            "Dr. Katalin Szabó",
            CARDIOLOGY,
            (Shift(CENTRAL, (0, 2), AFTERNOON), Shift(BUDA, (1, 3, 4), MORNING)),
        ),
        PhysicianPlan("Dr. Balázs Fekete", CARDIOLOGY, (Shift(PEST, (1, 3), AFTERNOON),)),
        PhysicianPlan("Dr. Eszter Kovács", DERMATOLOGY, (Shift(BUDA, MON_FRI, MORNING),)),
        PhysicianPlan(
            "Dr. Gábor Horváth",
            DERMATOLOGY,
            (Shift(PEST, (0, 1, 2, 3), MORNING), Shift(CENTRAL, (4,), AFTERNOON)),
        ),
        PhysicianPlan(
            "Dr. László Tóth",
            ORTHOPAEDICS,
            (Shift(PEST, (0, 2, 4), MORNING), Shift(BUDA, (1, 3), AFTERNOON)),
        ),
        PhysicianPlan("Dr. Zsófia Varga", ORTHOPAEDICS, (Shift(CENTRAL, (1, 2, 3, 4), MORNING),)),
    ),
    services=(
        ServicePlan("Cardiology consultation", (CARDIOLOGY,), 30, Decimal("24000")),
        ServicePlan("Resting ECG", (CARDIOLOGY,), 15, Decimal("9000")),
        ServicePlan("Echocardiography", (CARDIOLOGY,), 45, Decimal("32000"), (CENTRAL,)),
        ServicePlan("Exercise stress test", (CARDIOLOGY,), 60, Decimal("38000"), (CENTRAL,)),
        ServicePlan("Dermatology consultation", (DERMATOLOGY,), 30, Decimal("22000")),
        ServicePlan("Mole screening (dermatoscopy)", (DERMATOLOGY,), 30, Decimal("26000")),
        ServicePlan("Cryotherapy", (DERMATOLOGY,), 15, Decimal("12000")),
        ServicePlan("Minor skin surgery", (DERMATOLOGY,), 60, Decimal("45000"), (PEST,)),
        ServicePlan("Orthopaedic consultation", (ORTHOPAEDICS,), 30, Decimal("25000")),
        ServicePlan("Joint injection", (ORTHOPAEDICS,), 20, Decimal("18000")),
        ServicePlan("Sports injury assessment", (ORTHOPAEDICS,), 45, Decimal("30000")),
        ServicePlan("Musculoskeletal ultrasound", (ORTHOPAEDICS,), 30, Decimal("21000"), (CENTRAL,)),
    ),
)

LAKESIDE_MAIN = "Lakeside Main Building"
LAKESIDE = InstitutionPlan(
    name="Lakeside Hospital",
    registration_number="19-10-500123",
    tax_number="24703350-2-19",
    address="Tagore sétány 1, 8230 Balatonfüred",
    phone="+36 87 555 100",
    locations=((LAKESIDE_MAIN, "Tagore sétány 1, 8230 Balatonfüred", "Mon–Fri 07:00–19:00"),),
    physicians=(
        PhysicianPlan("Dr. Ildikó Simon", "Internal medicine", (Shift(LAKESIDE_MAIN, MON_FRI, MORNING),)),
        PhysicianPlan("Dr. Tamás Lakatos", CARDIOLOGY, (Shift(LAKESIDE_MAIN, (0, 1, 2, 3), AFTERNOON),)),
    ),
    services=(
        ServicePlan("Internal medicine consultation", ("Internal medicine",), 30, Decimal("20000")),
        ServicePlan("Cardiology consultation", (CARDIOLOGY,), 30, Decimal("26000")),
        ServicePlan("Resting ECG", ("Internal medicine", CARDIOLOGY), 15, Decimal("9500")),
    ),
)

OPERATOR = ("operator@platform.example", "Dániel Kiss", "platform operator (superuser, /admin/)")
INSTITUTION_USERS = (
    ("admin@northside.example", "Judit Molnár", NORTHSIDE.name, Membership.Role.ADMIN),
    ("reception@northside.example", "Réka Balogh", NORTHSIDE.name, Membership.Role.STAFF),
    ("admin@lakeside.example", "András Farkas", LAKESIDE.name, Membership.Role.ADMIN),
)
LEAVE = ("Dr. Eszter Kovács", "Annual leave")

FEMALE_NAMES = (
    "Anna",
    "Éva",
    "Zsuzsanna",
    "Mária",
    "Ildikó",
    "Krisztina",
    "Andrea",
    "Nóra",
    "Lilla",
    "Petra",
)
MALE_NAMES = ("István", "József", "Attila", "Zoltán", "Tibor", "Ferenc", "Bence", "Máté", "Levente", "Ádám")
FAMILY_NAMES = (
    "Kovács",
    "Szabó",
    "Takács",
    "Kiss",
    "Németh",
    "Farkas",
    "Papp",
    "Lakatos",
    "Oláh",
    "Mészáros",
    "Juhász",
    "Szűcs",
    "Pintér",
    "Hegedűs",
    "Vincze",
)


class Command(BaseCommand):
    help = "Create (or top up) the demo institutions, users, calendars, patients and bookings."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--no-logins",
            action="store_true",
            help="Seed and summarise, without the logins (make run prints them once the server is up).",
        )
        parser.add_argument(
            "--logins-when-up",
            metavar="HOST:PORT",
            help="Seed nothing: print the logins once a server listens at HOST:PORT (or after two minutes).",
        )

    def handle(self, *args, **options) -> None:
        if options.get("logins_when_up"):
            host, _colon, port = options["logins_when_up"].rpartition(":")
            _wait_for_server(host or "127.0.0.1", int(port))
            self.logins()
            return
        rng = random.Random(SEED)
        today = timezone.localdate()
        with transaction.atomic():
            demo_user(*OPERATOR[:2], operator=True)
            northside = demo_institution(NORTHSIDE)
            lakeside = demo_institution(LAKESIDE)
            institutions = {northside.name: northside, lakeside.name: lakeside}
            memberships = {
                email: demo_membership(demo_user(email, name), institutions[institution_name], role)
                for email, name, institution_name, role in INSTITUTION_USERS
            }
            demo_exceptions(institutions.values(), today)
            demo_patients(northside, rng)
            reception = memberships["reception@northside.example"]
            actor = Actor(user=reception.user, membership=reception, memberships=(reception,))
            created = demo_bookings(northside, actor, rng, today)
            demo_partners(
                northside=northside, admin=memberships["admin@northside.example"], make_user=demo_user
            )
            history = demo_history(institution=northside, reception=reception.user, today=today)
            demo_online(northside, memberships["admin@northside.example"])
        self.report(northside, created, history, today)
        if not options.get("no_logins"):
            self.logins()

    def report(self, northside: Institution, created: int, history: int, today: date) -> None:
        """Print what the demo holds."""
        upcoming = future_bookings(northside).count()
        self.stdout.write(
            f"Demo data ready: {northside.name} with {northside.locations.count()} locations, "
            f"{northside.physicians.count()} physicians, {northside.services.count()} services, "
            f"{northside.patients.count()} patients and {upcoming} upcoming bookings "
            f"({created} new); {LAKESIDE.name}."
        )
        self.stdout.write(
            f"… and {past_bookings(northside, today).count()} past bookings for the reports ({history} new)."
        )

    def logins(self) -> None:
        """How to log in, and where the demo's e-mails are (make run prints this last, once serving)."""
        self.stdout.write("")
        if settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
            self.stdout.write(f"E-mails are kept as files under {settings.EMAIL_FILE_PATH}/, not printed.")
        self.stdout.write(
            f"Patients book online, logged out, at {settings.SITE_URL}/book/ (Northside Clinic)."
        )
        self.stdout.write(f"Open {settings.SITE_URL} and log in (password {PASSWORD} for everyone):")
        rows = (
            [(OPERATOR[0], OPERATOR[2])]
            + [
                (email, f"{role.label.lower()} at {institution_name}")
                for email, _name, institution_name, role in INSTITUTION_USERS
            ]
            + list(PARTNER_LOGINS)
        )
        for email, what in rows:
            self.stdout.write(f"  {email:<30} {PASSWORD}   {what}")


ONLINE_SERVICES = (
    "Cardiology consultation",
    "Dermatology consultation",
    "Orthopaedic consultation",
    "Resting ECG",
)
PRIVACY_NOTICE = (
    "Northside Clinic uses your name, birth date, e-mail address, phone and TAJ number to book and hold your"
    " appointment and to contact you about it, as your health care provider (GDPR Art. 6(1)(b) and 9(2)(h))."
    " We keep them with your medical records as the law requires, and share them with no one else. You may"
    " ask to see, correct or restrict them at the reception or at privacy@northside.example."
)


def demo_online(institution: Institution, admin: Membership) -> None:
    """Turn online booking on at Northside Clinic (issue 22) with a privacy notice and four services ticked in
    the Online column, through the settings and Traffic Channels services."""
    actor = Actor(user=admin.user, membership=admin, memberships=(admin,))
    if not institution.online_booking:
        values = {field: getattr(institution, field) for field in SETTINGS_FIELDS}
        values.update(online_booking=True, privacy_notice=values["privacy_notice"] or PRIVACY_NOTICE)
        institution_settings_update(actor=actor, values=values)
    ticked = online_service_ids(actor=actor)
    for service in Service.objects.filter(institution=institution, name__in=ONLINE_SERVICES):
        if service.pk not in ticked:
            online_service_set(actor=actor, service=service, enabled=True)


def _wait_for_server(host: str, port: int, patience: float = 120.0) -> None:
    """Return once something accepts connections at host:port (the development server), or after
    `patience` seconds; a bare connection, so that the server logs no request."""
    deadline = clock.monotonic() + patience
    while clock.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            clock.sleep(0.2)


def demo_user(email: str, full_name: str, *, operator: bool = False) -> User:
    """Create or refresh a demo login, restoring its password if someone changed it."""
    user, created = User.objects.update_or_create(
        email=email,
        defaults={"full_name": full_name, "is_active": True, "is_staff": operator, "is_superuser": operator},
    )
    if created or not user.check_password(PASSWORD):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    return user


def demo_membership(user: User, institution: Institution, role: str) -> Membership:
    """Give the user the role at the institution."""
    membership, _created = Membership.objects.update_or_create(
        user=user, organization=institution, defaults={"role": role, "is_active": True}
    )
    return membership


def demo_institution(plan: InstitutionPlan) -> Institution:
    """Create the institution (with its built-in channels) and its locations, physicians and services."""
    details = {
        "registration_number": plan.registration_number,
        "tax_number": plan.tax_number,
        "address": plan.address,
        "phone": plan.phone,
        # Demo readers read English; partners book, move and cancel up to two hours before a visit, and
        # patients (through the link in their e-mails) cancel or move up to one hour before.
        "language": "en",
        "partner_cutoff_minutes": 120,
        "patient_cutoff_minutes": 60,
    }
    institution = Institution.objects.filter(name=plan.name).first()
    if institution is None:
        institution = institution_create(name=plan.name, time_zone="Europe/Budapest", **details)
    else:
        channels_create_defaults(institution=institution)
    locations = {
        name: Location.objects.update_or_create(
            institution=institution, name=name, defaults={"address": address, "opening_hours": hours}
        )[0]
        for name, address, hours in plan.locations
    }
    physicians = [demo_physician(institution, locations, physician) for physician in plan.physicians]
    for service in plan.services:
        demo_service(institution, locations, physicians, service)
    return institution


def demo_physician(institution: Institution, locations: dict, plan: PhysicianPlan) -> Physician:
    """Create the physician with the locations and weekly working hours of the plan."""
    physician, _created = Physician.objects.update_or_create(
        institution=institution, full_name=plan.full_name, defaults={"specialty": plan.specialty}
    )
    physician.locations.set([locations[shift.location] for shift in plan.shifts])
    for shift in plan.shifts:
        for weekday in shift.weekdays:
            WorkingHours.objects.get_or_create(
                physician=physician,
                location=locations[shift.location],
                weekday=weekday,
                start_time=shift.hours[0],
                end_time=shift.hours[1],
                valid_from=None,
                valid_until=None,
            )
    return physician


def demo_service(institution: Institution, locations: dict, physicians: list, plan: ServicePlan) -> None:
    """Offer the service by the physicians of its specialties at the locations where they work."""
    service, _created = Service.objects.update_or_create(
        institution=institution,
        name=plan.name,
        defaults={"duration_minutes": plan.minutes, "price": plan.price, "currency": "HUF"},
    )
    givers = [physician for physician in physicians if physician.specialty in plan.specialties]
    where = {location for physician in givers for location in physician.locations.all()}
    if plan.only_at:
        where = {locations[name] for name in plan.only_at}
    service.physicians.set(givers)
    service.locations.set(where)


def demo_exceptions(institutions, today: date) -> None:
    """Close every physician on the next weekday public holiday and send one on leave."""
    holiday, holiday_name = next_public_holiday(today)
    for physician in Physician.objects.filter(institution__in=list(institutions)):
        ScheduleException.objects.get_or_create(
            physician=physician,
            kind=ScheduleException.Kind.HOLIDAY,
            date_from=holiday,
            defaults={"date_until": holiday, "note": holiday_name},
        )
    physician = Physician.objects.get(institution__name=NORTHSIDE.name, full_name=LEAVE[0])
    monday = today + timedelta(days=14 - today.weekday())
    leave, created = ScheduleException.objects.get_or_create(
        physician=physician,
        kind=ScheduleException.Kind.LEAVE,
        note=LEAVE[1],
        defaults={"date_from": monday, "date_until": monday + timedelta(days=4)},
    )
    # Keep the demo's leave ahead of today, but never move one that is still to come.
    if not created and leave.date_until < today:
        leave.date_from, leave.date_until = monday, monday + timedelta(days=4)
        leave.save(update_fields=["date_from", "date_until"])


def taj_with_check_digit(body: str) -> str:
    """Append the TAJ check digit (weights 3 and 7, as validators.taj_is_valid checks) to eight digits."""
    total = sum(int(digit) * (3 if i % 2 == 0 else 7) for i, digit in enumerate(body))
    return body + str(total % 10)


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters of a name, for a demo email address."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def demo_patients(institution: Institution, rng: random.Random) -> None:
    """Register the demo patients, keyed on their TAJ numbers so a second run finds them."""
    seen: set[str] = set()
    while len(seen) < PATIENT_COUNT:
        taj = taj_with_check_digit(f"{rng.randrange(10**7, 10**8)}")
        female = rng.random() < 0.55
        first = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
        family = rng.choice(FAMILY_NAMES)
        birth_date = date(1940, 1, 1) + timedelta(days=rng.randrange(75 * 365))
        phone = (
            f"+36 {rng.choice(('20', '30', '70'))} {rng.randrange(100, 1000)} {rng.randrange(1000, 10000)}"
        )
        if taj in seen:
            continue
        seen.add(taj)
        Patient.objects.update_or_create(
            institution=institution,
            insurance_id=taj,
            defaults={
                "full_name": f"{first} {family}",
                "birth_date": birth_date,
                "email": f"{ascii_slug(first)}.{ascii_slug(family)}.{taj[-3:]}@mail.example",
                "phone": phone,
            },
        )


def future_bookings(institution: Institution):
    """The institution's active bookings that have not started yet."""
    return Booking.objects.filter(
        institution=institution, status__in=Booking.ACTIVE_STATUSES, starts_at__gt=timezone.now()
    )


def bookable_offers(institution: Institution) -> list[tuple[Physician, Location, Service]]:
    """Every (physician, location, service) the institution offers, in a stable order."""
    offers = []
    for service in institution.services.filter(is_active=True).order_by("name"):
        service_locations = set(service.locations.values_list("pk", flat=True))
        for physician in service.physicians.filter(is_active=True).order_by("full_name"):
            for location in physician.locations.filter(is_active=True).order_by("name"):
                if location.pk in service_locations:
                    offers.append((physician, location, service))
    return offers


def demo_bookings(institution: Institution, actor: Actor, rng: random.Random, today: date) -> int:
    """Book free slots of the coming weeks through the booking service until the target is reached."""
    missing = BOOKING_TARGET - future_bookings(institution).count()
    if missing <= 0:
        return 0
    offers = bookable_offers(institution)
    patients = list(Patient.objects.filter(institution=institution).order_by("insurance_id"))
    channels = {c.code: c for c in TrafficChannel.objects.filter(institution=institution)}
    codes = [code for code in CHANNEL_WEIGHTS if code in channels]
    created = 0
    for _attempt in range(missing * 4):
        if created == missing:
            break
        physician, location, service = rng.choice(offers)
        slots = available_slots(
            physician=physician,
            location=location,
            service=service,
            date_from=today + timedelta(days=1),
            date_until=today + timedelta(days=BOOKING_DAYS),
        )
        if not slots:
            continue
        code = rng.choices(codes, weights=[CHANNEL_WEIGHTS[code] for code in codes])[0]
        try:
            booking_create(
                actor=actor,
                location=location,
                physician=physician,
                service=service,
                patient=rng.choice(patients),
                starts_at=rng.choice(slots).starts_at,
                channel=channels[code],
            )
        except DomainError:
            continue
        created += 1
    return created
