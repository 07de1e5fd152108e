"""One institution's patients and bookings, made in a worker process and written to two files.

Bookings are cut from each physician's working intervals (the application's slot engine: weekly rules,
leave and holidays, DST-safe) on the institution's slot grid, back to back and never overlapping; a share of
them is kept, busier in the past and the coming weeks than months ahead, exactly as many as the scale asks.
Partner bookings go only to a partnership that authorised the service at the location and was active when
the booking was made, with the terms it captures. The file holds one line per booking, sorted by when it
was made, for the merge that numbers them (`bench.gen.events`).
"""

import math
import random
from bisect import bisect
from datetime import UTC, date, datetime
from itertools import accumulate
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.gen import clock, names
from bench.gen.network import slug
from bench.gen.specs import InstitutionSpec, PartnershipSpec, Window
from medbook.core.timefmt import when
from medbook.demo.management.commands.seed_demo import taj_with_check_digit
from medbook.scheduling import slots as engine

MICRO = clock.MICRO
DAY = clock.DAY_SECONDS
GAP_SHARE = 0.07  # of the grid left free even when the calendar is full (breaks, late starts)
PARTNER_SHARE = 0.30  # of the bookings made by partners where they may book
CHANNEL_WEIGHTS = {"online": 5, "phone": 3, "reception": 2}  # medbook.demo's mix of the built-in channels
SEASON = {7: 0.8, 8: 0.75, 12: 0.85}
MAIL_DOMAINS = ("freemail.example", "gmail.example", "citromail.example", "t-online.example")
_WHEN: dict[tuple[int, str, str], str] = {}  # when() of slot starts, shared by a worker's institutions
NOTE = ("", "", "", "", "", "", "", "", "Első alkalom", "Kontroll", "Beutalóval érkezik")


def fill(days_ahead: int, month: int, horizon: int) -> float:
    """How full a day's calendar is, relatively: the past busy, the coming weeks filling, months ahead empty."""
    season = SEASON.get(month, 1.0)
    if days_ahead < 0:
        return 0.85 * season
    if days_ahead >= horizon:
        return 0.0
    return season * (0.04 + 0.9 * math.exp(-days_ahead / 40))


def keep_factor(weights: dict[float, int], wanted: int) -> float:
    """The factor c such that keeping each candidate with probability min(1, c·w) keeps `wanted`."""
    low, high = 0.0, 1.0
    while sum(n * min(1.0, high * w) for w, n in weights.items()) < wanted and high < 1e9:
        high *= 2
    for _step in range(60):
        middle = (low + high) / 2
        if sum(n * min(1.0, middle * w) for w, n in weights.items()) < wanted:
            low = middle
        else:
            high = middle
    return high


class InstitutionWorker:
    """Generates one institution; deterministic from the seed and the institution's index."""

    def __init__(self, spec: InstitutionSpec, window: Window, seed: int):
        self.spec, self.window = spec, window
        self.rng = random.Random(seed * 1_000_003 + spec.index)
        self.zone = ZoneInfo(spec.time_zone)
        self.language = "hu" if spec.time_zone == "Europe/Budapest" else "en"
        self.emails: list[str] = []

    # Patients ---------------------------------------------------------------------------------------------

    def patients(self, path: Path) -> None:
        """The register, imported when the institution joined: unique TAJ numbers, a few partner duplicates."""
        rng, spec = self.rng, self.spec
        bodies = rng.sample(range(10**7, 10**8), spec.patients)
        joined_us = (
            clock.seconds_of(datetime.combine(self.window.first_day, datetime.min.time(), UTC)) * MICRO
        )
        registered: list[str] = []
        with path.open("w") as out:
            for offset in range(spec.patients):
                female = rng.random() < 0.55
                first = rng.choice(names.FEMALE_NAMES if female else names.MALE_NAMES)
                family = rng.choice(names.FAMILY_NAMES)
                by_partner = offset > 10 and rng.random() < 0.03
                taj = ""
                if by_partner and registered and rng.random() < 0.5:
                    taj = rng.choice(registered)  # P-15: a partner without access registers a known patient
                elif rng.random() < 0.93:
                    taj = taj_with_check_digit(str(bodies[offset]))
                    if not by_partner:
                        registered.append(taj)
                email = ""
                if rng.random() < 0.7:
                    email = f"{slug(first)}.{slug(family)}{rng.randrange(1, 999)}@{rng.choice(MAIL_DOMAINS)}"
                self.emails.append(email)
                mobile = f"+36{rng.choice(('20', '30', '70'))}{rng.randrange(1_000_000, 9_999_999)}"
                born = date.fromordinal(date(1935, 1, 1).toordinal() + rng.randrange(85 * 365)).isoformat()
                created = joined_us - rng.randrange(0, 30 * DAY * MICRO)
                out.write(
                    f"{spec.first_patient_id + offset}\t{first} {family}\t{born}\t{email}\t"
                    f"{mobile if rng.random() < 0.85 else ''}\t{taj}\t{clock.copy_us(created)}\t{spec.id}\t"
                    f"{'t' if by_partner else 'f'}\tf\n"
                )

    # Bookings ---------------------------------------------------------------------------------------------

    def candidates(self) -> list[tuple[int, int, int, int, int]]:
        """Every slot the calendars could hold: (start, end, physician, location, service index), back to back."""
        spec, rng = self.spec, self.rng
        grid = (spec.grid_minutes or 0) * 60
        found = []
        for physician in spec.physicians:
            for location_id, rules in physician.rules.items():
                offers = [
                    (index, service.minutes * 60, service.popularity)
                    for index, service in enumerate(spec.services)
                    if location_id in service.location_ids and physician.id in service.physician_ids
                ]
                if not offers:
                    continue
                cumulative = list(accumulate(weight for _i, _d, weight in offers))
                unit = grid or math.gcd(*(duration for _i, duration, _w in offers))
                intervals = engine.working_intervals(
                    rules, physician.closed, self.zone, self.window.first_day, self.window.last_day
                )
                for interval in intervals:
                    start, end = clock.seconds_of(interval.starts_at), clock.seconds_of(interval.ends_at)
                    t = start
                    while t < end:
                        index, duration, _w = offers[bisect(cumulative, rng.random() * cumulative[-1])]
                        fits = t + duration <= end and (grid or (t - start) % duration == 0)
                        if not fits:
                            eligible = [
                                o for o in offers if t + o[1] <= end and (grid or (t - start) % o[1] == 0)
                            ]
                            if not eligible:
                                t += unit
                                continue
                            index, duration, _w = rng.choices(eligible, weights=[o[2] for o in eligible])[0]
                        if rng.random() >= GAP_SHARE:
                            found.append((t, t + duration, physician.id, location_id, index))
                        t += duration
                        if grid and (t - start) % grid:
                            t += grid - (t - start) % grid
        return found

    def kept(self, found: list) -> list:
        """Exactly `spec.bookings` of the candidates (all of them if the calendars hold fewer)."""
        rng, now = self.rng, self.window.now_s
        horizon = self.spec.horizon_days
        day_weight: dict[int, float] = {}
        weights = []
        for start, *_rest in found:
            day = (start - now) // DAY
            weight = day_weight.get(day)
            if weight is None:
                month = datetime.fromtimestamp(start, UTC).month
                weight = day_weight[day] = fill(day, month, horizon)
            weights.append(weight)
        counts: dict[float, int] = {}
        for weight in weights:
            if weight > 0:
                counts[weight] = counts.get(weight, 0) + 1
        wanted = min(self.spec.bookings, sum(counts.values()))
        factor = keep_factor(counts, wanted)
        chosen = [i for i, w in enumerate(weights) if w > 0 and rng.random() < min(1.0, factor * w)]
        if len(chosen) > wanted:
            chosen = sorted(rng.sample(chosen, wanted))
        elif len(chosen) < wanted:
            taken = set(chosen)
            spare = [i for i, w in enumerate(weights) if w > 0 and i not in taken]
            chosen = sorted(chosen + rng.sample(spare, wanted - len(chosen)))
        return [found[i] for i in chosen]

    def object_repr(self, start: int, service: str, patient: str) -> str:
        """str(booking): the service, the time in the institution's zone (`when`) and the patient."""
        key = (start, self.spec.time_zone, self.language)
        text = _WHEN.get(key)
        if text is None:
            text = _WHEN[key] = when(clock.datetime_s(start), self.spec.time_zone, language=self.language)
        return f"{service} {text} {patient}"

    def authorising(self) -> dict[tuple[int, int], list[PartnershipSpec]]:
        found: dict[tuple[int, int], list[PartnershipSpec]] = {}
        for partnership in self.spec.partnerships:
            for location_id in partnership.location_ids:
                for service_id in partnership.service_ids:
                    found.setdefault((location_id, service_id), []).append(partnership)
        return found

    def bookings(self, path: Path, patients: list[list[str]]) -> dict[str, int]:
        """The institution's bookings, a line each; `patients` are the register's (name, birth date)."""
        spec, rng, now_us = self.spec, self.rng, self.window.now_s * MICRO
        kept = self.kept(self.candidates())
        authorising = self.authorising()
        cutoff_us = spec.cutoff_minutes * 60 * MICRO
        options = []
        for start, _end, _physician, location_id, index in kept:
            start_us = start * MICRO
            options.append(
                [
                    p
                    for p in authorising.get((location_id, spec.services[index].id), ())
                    if p.active_from_us < start_us - cutoff_us - 3600 * MICRO
                    and (p.active_until_us is None or start_us < p.active_until_us)
                ]
            )
        open_share = sum(1 for o in options if o) / max(1, len(options))
        partner_chance = min(0.95, PARTNER_SHARE / open_share) if open_share else 0.0
        codes = list(CHANNEL_WEIGHTS)
        channel_weights = list(CHANNEL_WEIGHTS.values())
        stats = {"bookings": 0, "partner": 0, "past": 0, "completed": 0, "no_show": 0, "cancelled": 0}
        lines = []
        for (start, end, physician_id, location_id, index), eligible in zip(kept, options, strict=True):
            service = spec.services[index]
            start_us, end_us = start * MICRO, end * MICRO
            partnership = rng.choice(eligible) if eligible and rng.random() < partner_chance else None
            created = self.created_at(start_us, partnership, cutoff_us)
            if created is None:
                partnership = None
                created = self.created_at(start_us, None, cutoff_us)
            assert created is not None
            patient_offset = min(spec.patients - 1, int(spec.patients * rng.random() ** 1.6))
            patient_id = spec.first_patient_id + patient_offset
            staff = rng.choice(spec.staff_ids)
            outcome = self.outcome(start_us, end_us, created, partnership, cutoff_us)
            status, cancelled, attended, cancel_user, payment, paid, refunded = outcome
            if partnership is not None:
                booked_by, partner_id, channel_id = (
                    rng.choice(partnership.agent_ids),
                    partnership.partner_id,
                    partnership.channel_id,
                )
                percent, fixed = partnership.commission_percent, partnership.commission_fixed
                if partnership.paid_at_partner:  # captured at booking and kept (policy.PAYMENT_STEPS)
                    payment, paid, refunded = "paid_at_partner", None, None
            else:
                booked_by, partner_id, percent, fixed = staff, "", "", ""
                channel_id = spec.channel_ids[rng.choices(codes, weights=channel_weights)[0]]
            if cancel_user == -1:
                cancel_user = rng.choice(partnership.agent_ids) if partnership is not None else staff
            updated = max(t for t in (created, cancelled, attended, paid, refunded) if t is not None)
            reason = rng.choice(names.CANCEL_REASONS) if cancelled is not None else ""
            stats["bookings"] += 1
            stats["partner"] += partnership is not None
            stats["past"] += start_us < now_us
            stats[status] = stats.get(status, 0) + 1
            lines.append(
                "\t".join(
                    (
                        f"{created:017d}",
                        str(spec.id),
                        str(location_id),
                        str(physician_id),
                        str(service.id),
                        str(patient_id),
                        str(start),
                        str(end),
                        status,
                        payment,
                        str(created),
                        "" if cancelled is None else str(cancelled),
                        "" if attended is None else str(attended),
                        reason,
                        service.price,
                        percent,
                        fixed,
                        str(booked_by),
                        str(partner_id),
                        str(channel_id),
                        self.object_repr(start, service.name, patients[patient_offset][0]),
                        "" if cancel_user is None else str(cancel_user),
                        str(staff),
                        "" if paid is None else str(paid),
                        "" if refunded is None else str(refunded),
                        self.emails[patient_offset],
                        str(updated),
                        rng.choice(NOTE),
                        # The patient as a partner's booking captures them (scheduling.patient_shown).
                        *(patients[patient_offset] if partnership is not None else ("", "")),
                    )
                )
                + "\n"
            )
        lines.sort()
        path.write_text("".join(lines))
        return stats

    def created_at(self, start_us: int, partnership: PartnershipSpec | None, cutoff_us: int) -> int | None:
        """When the booking was made: days to weeks ahead (a partner's at least its cut-off ahead), within the
        horizon, never after today, and while the partnership was active."""
        rng, now_us = self.rng, self.window.now_s * MICRO
        earliest = start_us - (self.spec.horizon_days * DAY - 3600) * MICRO
        latest = start_us - (cutoff_us + 300 * MICRO if partnership is not None else 600 * MICRO)
        latest = min(latest, now_us - rng.randrange(1, 3600) * MICRO)
        lead = int(rng.lognormvariate(math.log(6 * DAY), 1.1) * MICRO)
        created = (
            start_us - lead
            if start_us < now_us
            else now_us - int(rng.lognormvariate(math.log(4 * DAY), 1.2) * MICRO)
        )
        created = max(earliest, min(latest, created))
        if partnership is not None:
            created = max(created, partnership.active_from_us + rng.randrange(1, 3600) * MICRO)
            if created > latest or (
                partnership.active_until_us is not None and created >= partnership.active_until_us
            ):
                return None
        return created + rng.randrange(MICRO)

    def outcome(self, start_us, end_us, created, partnership, cutoff_us):
        """Status, when cancelled, when attendance was recorded, who cancelled (-1: the booker's side, picked
        later), payment status and when it was paid and refunded."""
        rng, now_us = self.rng, self.window.now_s * MICRO
        cancelled = attended = paid = refunded = cancel_user = None
        payment = "unpaid"
        if end_us + 10 * 60 * MICRO <= now_us:
            draw = rng.random()
            status = "cancelled" if draw < 0.12 else "no_show" if draw < 0.18 else "completed"
            recent = start_us >= now_us - 3 * DAY * MICRO
            if status != "cancelled" and ((recent and rng.random() < 0.3) or rng.random() < 0.003):
                status = "booked"  # "Attendance not recorded" on reception's list
        else:
            status = "cancelled" if start_us > now_us and rng.random() < 0.04 else "booked"
        if status == "cancelled":
            until = min(start_us - MICRO, now_us - MICRO)
            cancelled = created + int((until - created) * rng.uniform(0.2, 0.98))
            by_partner = partnership is not None and rng.random() < 0.5 and cancelled <= start_us - cutoff_us
            cancel_user = -1 if by_partner else None
        elif status in ("completed", "no_show"):
            attended = end_us + rng.randrange(-10 * 60, 120 * 60) * MICRO + rng.randrange(MICRO)
            attended = max(start_us + MICRO, min(attended, now_us - MICRO))
            if status == "completed":
                draw = rng.random()
                if draw < 0.96:
                    payment, paid = "paid", min(attended + rng.randrange(30, 900) * MICRO, now_us - 1)
                    if draw < 0.02:
                        refund = paid + rng.randrange(DAY, 20 * DAY) * MICRO
                        if refund < now_us:
                            payment, refunded = "refunded", refund
        return status, cancelled, attended, cancel_user, payment, paid, refunded


def generate_institution(spec: InstitutionSpec, window: Window, seed: int, folder: str) -> dict[str, int]:
    """The worker's task: write the institution's patients and bookings files; return what it made."""
    worker = InstitutionWorker(spec, window, seed)
    patients_path = Path(folder) / f"patients-{spec.index:05d}.copy"
    worker.patients(patients_path)
    patients = [line.split("\t", 3)[1:3] for line in patients_path.read_text().splitlines()]
    stats = worker.bookings(Path(folder) / f"bookings-{spec.index:05d}.tsv", patients)
    stats["patients"] = spec.patients
    return stats
