"""The merge: every institution's bookings numbered in the order they were made (as the application's
inserts would have numbered them), and the audit entries and e-mails their making, cancelling, attendance
and payment caused, each in time order.

Entries are appended in time order whatever the institution, so the ids run as on a live platform. They are
written as entries of the Merkle-tree era (no old hash chain, no leaf hash of their own): the queue trigger
(audit_auditentry_enqueue) queues each as COPY inserts it, and the generator then seals them into their
trees with the application's own sealer (bench/gen/seal.py), which computes every leaf hash from the
content with `medbook.audit.chain` — so the generator never has to know what the hashed part holds.
"""

import heapq
import json
import random
import uuid
from collections.abc import Callable, Iterable
from zoneinfo import ZoneInfo

from bench.gen import clock
from bench.gen.network import Network
from bench.gen.specs import Window

MICRO = clock.MICRO
OUTBOX_DAYS = 30  # sent e-mails kept in the outbox: those of the last month
REMINDER_HOUR = 18  # medbook.scheduling.patient_mail.REMINDER_TIME, local time the day before

BOOKING_COLUMNS = (
    "id", "starts_at", "ends_at", "status", "payment_status", "created_at", "updated_at", "cancelled_at",
    "price", "currency", "commission_percent", "commission_fixed", "note", "booked_by_id", "institution_id",
    "location_id", "partner_id", "patient_id", "physician_id", "service_id", "channel_id",
    "attendance_recorded_at", "cancel_reason", "partner_patient_ref", "partner_patient_name",
    "partner_patient_birth_date",
)  # fmt: skip
AUDIT_COLUMNS = (
    "id", "created_at", "user_email", "organization_name", "action", "object_type", "object_id",
    "object_repr", "ip_address", "details", "institution_id", "user_id", "request_id", "prev_hash", "row_hash",
)  # fmt: skip
OUTBOX_COLUMNS = (
    "id", "idempotency_key", "to_email", "language", "subject", "text_body", "html_body", "kind", "reference",
    "status", "attempts", "next_attempt_at", "claimed_at", "claim_token", "last_error", "created_at",
    "sent_at", "attachments",
)  # fmt: skip
CREATE = '{"partner_id":%s,"patient_id":%s,"physician_id":%s,"service_id":%s,"starts_at":"%s"}'
ATTENDANCE = (
    '{"partner_id":%s,"patient_id":%s,"physician_id":%s,"previous":"booked","service_id":%s,'
    '"starts_at":"%s","status":"%s"}'
)
PAYMENT = (
    '{"partner_id":%s,"patient_id":%s,"payment_status":"%s","physician_id":%s,"previous":"%s",'
    '"service_id":%s,"starts_at":"%s"}'
)
SUBJECTS = {
    "hu": {
        "patient_booking_made": "Időpontja lefoglalva: %s",
        "patient_booking_reminder": "Emlékeztető a holnapi időpontjára: %s",
        "patient_booking_cancelled": "Időpontját lemondtuk: %s",
        "booking_made": "Új partnerfoglalás: %s",
    },
    "en": {
        "patient_booking_made": "Your appointment is booked: %s",
        "patient_booking_reminder": "A reminder of your appointment tomorrow: %s",
        "patient_booking_cancelled": "Your appointment is cancelled: %s",
        "booking_made": "New partner booking: %s",
    },
}
NULL = "\\N"


def copy_text(value: str) -> str:
    """A value as COPY's text format reads it."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


class Merger:
    """Numbers the bookings and writes bookings, audit entries and outbox messages through three COPYs."""

    def __init__(self, network: Network, window: Window, seed: int, sinks: dict[str, Callable[[str], None]]):
        self.net, self.window = network, window
        self.rng = random.Random(seed * 7 + 13)
        self.sinks = sinks
        self.buffers: dict[str, list[str]] = {name: [] for name in sinks}
        self.counts = {name: 0 for name in sinks}
        self.heap: list[tuple] = []
        self.sequence = 0
        self.now_us = window.now_s * MICRO
        self.outbox_from = self.now_us - OUTBOX_DAYS * clock.DAY_SECONDS * MICRO
        self.specs = {spec.id: spec for spec in network.institutions}
        self.language = {
            spec.id: "hu" if spec.time_zone == "Europe/Budapest" else "en" for spec in self.specs.values()
        }
        self.reminder_offset = {spec.id: self.local_offset(spec.time_zone) for spec in self.specs.values()}

    def local_offset(self, zone_name: str) -> Callable[[int], int]:
        """Seconds the zone's clock is ahead of UTC at an instant."""
        zone = ZoneInfo(zone_name)
        return lambda seconds: int(clock.datetime_s(seconds).astimezone(zone).utcoffset().total_seconds())

    # Output -----------------------------------------------------------------------------------------------

    def emit(self, sink: str, line: str) -> None:
        buffer = self.buffers[sink]
        buffer.append(line)
        self.counts[sink] += 1
        if len(buffer) >= 5000:
            self.sinks[sink]("".join(buffer))
            buffer.clear()

    def flush(self) -> None:
        for name, buffer in self.buffers.items():
            if buffer:
                self.sinks[name]("".join(buffer))
                buffer.clear()

    def schedule(self, at_us: int, kind: str, payload) -> None:
        self.sequence += 1
        heapq.heappush(self.heap, (at_us, self.sequence, kind, payload))

    def drain(self, until_us: int | None) -> None:
        """Write every scheduled event that happened before `until_us` (all of them for None)."""
        heap = self.heap
        while heap and (until_us is None or heap[0][0] <= until_us):
            at_us, _sequence, kind, payload = heapq.heappop(heap)
            getattr(self, f"on_{kind}")(at_us, payload)

    # The audit log --------------------------------------------------------------------------------------

    def audit(
        self, at_us, action, user_id, institution_id, object_type, object_id, object_repr, details
    ) -> None:
        """Append one entry: the fields as `medbook.audit.services.audit_record` sets them."""
        email = self.net.user_email.get(user_id, "") if user_id else ""
        organization = self.net.user_org.get(user_id, "") if user_id else ""
        ip = self.net.user_ip.get(user_id) if user_id else None
        request_id = f"{self.rng.getrandbits(128):032x}"
        # prev_hash and row_hash empty (the old chain is only the history before the trees), leaf_hash left
        # to its database default: the sealer computes each leaf from the content.
        number = self.counts["audit"] + 1
        self.emit(
            "audit",
            f"{number}\t{clock.copy_us(at_us)}\t{copy_text(email)}\t{copy_text(organization)}\t{action}\t"
            f"{object_type}\t{object_id}\t{copy_text(object_repr)}\t{ip or NULL}\t{copy_text(details)}\t"
            f"{institution_id if institution_id is not None else NULL}\t{user_id or NULL}\t{request_id}\t\t\n",
        )

    # Events -----------------------------------------------------------------------------------------------

    def run(self, lines: Iterable[str]) -> None:
        for (
            at_us,
            action,
            user_id,
            institution_id,
            object_type,
            object_id,
            object_repr,
        ) in self.net.org_events:
            self.schedule(
                at_us, "org", (action, user_id, institution_id, object_type, str(object_id), object_repr)
            )
        for line in lines:
            fields = line.rstrip("\n").split("\t")
            created = int(fields[10])
            self.drain(created)
            self.booking(fields, created)
        self.drain(None)
        self.flush()

    def booking(self, f: list[str], created: int) -> None:
        booking_id = self.counts["bookings"] + 1
        spec = self.specs[int(f[1])]
        cancelled, attended = f[11], f[12]
        self.emit(
            "bookings",
            "\t".join(
                (
                    str(booking_id),
                    clock.copy_s(int(f[6])),
                    clock.copy_s(int(f[7])),
                    f[8],
                    f[9],
                    clock.copy_us(created),
                    clock.copy_us(int(f[26])),
                    clock.copy_us(int(cancelled)) if cancelled else NULL,
                    f[14],
                    spec.currency,
                    f[15] or NULL,
                    f[16] or NULL,
                    copy_text(f[27]),
                    f[17],
                    f[1],
                    f[2],
                    f[18] or NULL,
                    f[5],
                    f[3],
                    f[4],
                    f[19],
                    clock.copy_us(int(attended)) if attended else NULL,
                    copy_text(f[13]),
                    f[5] if f[18] else NULL,
                    copy_text(f[28]),
                    f[29] or NULL,
                )
            )
            + "\n",
        )
        starts = clock.iso_s(int(f[6]))
        partner = f[18] or "null"
        payload = (booking_id, f, starts, partner)
        details = CREATE % (partner, f[5], f[3], f[4], starts)
        self.audit(
            created + 1000,
            "booking.create",
            int(f[17]),
            spec.id,
            "scheduling.Booking",
            str(booking_id),
            f[20],
            details,
        )
        if cancelled:
            self.schedule(int(cancelled), "cancel", payload)
        if attended:
            self.schedule(int(attended), "attendance", payload)
        if f[23]:
            self.schedule(int(f[23]), "paid", payload)
        if f[24]:
            self.schedule(int(f[24]), "refunded", payload)
        email = f[25]
        if email and created >= self.outbox_from:
            self.mail(
                created + 2000,
                email,
                spec.id,
                "patient_booking_made",
                f"booking:{booking_id}:patient",
                f,
                "sent",
            )
        self.reminder(booking_id, f, created, spec.id)
        if f[18] and created >= self.outbox_from:
            admin = self.net.admin_of[spec.id]
            reference = f"booking:{booking_id}:made"
            self.mail(
                created + 3000, self.net.user_email[admin], spec.id, "booking_made", reference, f, "sent"
            )

    def reminder(self, booking_id: int, f: list[str], created: int, institution_id: int) -> None:
        """The evening-before reminder planned at booking: sent, due, or withdrawn by a cancellation."""
        email, start = f[25], int(f[6])
        if not email:
            return
        local_day = (start + self.reminder_offset[institution_id](start)) // clock.DAY_SECONDS
        due_local = (local_day - 1) * clock.DAY_SECONDS + REMINDER_HOUR * 3600
        due = due_local - self.reminder_offset[institution_id](due_local)
        if due * MICRO <= created or due * MICRO < self.outbox_from:
            return
        cancelled = int(f[11]) if f[11] else None
        status = "sent" if due * MICRO < self.now_us else "pending"
        if cancelled is not None and cancelled < due * MICRO:
            status = "withdrawn"
        kind = "patient_booking_reminder"
        self.mail(
            created + 2500,
            email,
            institution_id,
            kind,
            f"booking:{booking_id}:reminder",
            f,
            status,
            due * MICRO,
        )

    def mail(self, at_us, to, institution_id, kind, reference, f, status, due_us=None) -> None:
        language = self.language[institution_id]
        what = f[20]
        subject = SUBJECTS[language][kind] % what
        name = self.specs[institution_id].name
        text = f"{subject}\n\n{name}\n{what}\n"
        html = f"<p>{subject}</p><p>{name}<br>{what}</p>"
        due_us = due_us or at_us
        sent = clock.copy_us(due_us + self.rng.randrange(1, 60) * MICRO) if status == "sent" else NULL
        attempts = "1" if status == "sent" else "0"
        key = uuid.UUID(int=self.rng.getrandbits(128), version=4)
        self.emit(
            "outbox",
            f"{self.counts['outbox'] + 1}\t{key}\t{to}\t{language}\t{copy_text(subject)}\t{copy_text(text)}\t"
            f"{copy_text(html)}\t{kind}\t{reference}\t{status}\t{attempts}\t{clock.copy_us(due_us)}\t{NULL}\t"
            f"{NULL}\t\t{clock.copy_us(at_us)}\t{sent}\t[]\n",
        )

    def on_org(self, at_us: int, payload) -> None:
        action, user_id, institution_id, object_type, object_id, object_repr = payload
        self.audit(at_us, action, user_id, institution_id, object_type, object_id, object_repr, "{}")

    def on_cancel(self, at_us: int, payload) -> None:
        booking_id, f, starts, partner = payload
        institution_id = int(f[1])
        user_id = int(f[21]) if f[21] else int(f[22])
        details: dict = {
            "starts_at": starts,
            "physician_id": int(f[3]),
            "service_id": int(f[4]),
            "patient_id": int(f[5]),
            "partner_id": int(f[18]) if f[18] else None,
        }
        if f[13]:
            details["reason"] = f[13]
        if f[18]:
            details["partner"] = self.net.org_name[int(f[18])]
        text = json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        self.audit(
            at_us,
            "booking.cancel",
            user_id,
            institution_id,
            "scheduling.Booking",
            str(booking_id),
            f[20],
            text,
        )
        if f[25] and at_us >= self.outbox_from:
            reference = f"booking:{booking_id}:patient"
            self.mail(at_us + 2000, f[25], institution_id, "patient_booking_cancelled", reference, f, "sent")

    def on_attendance(self, at_us: int, payload) -> None:
        booking_id, f, starts, partner = payload
        details = ATTENDANCE % (partner, f[5], f[3], f[4], starts, f[8])
        self.audit(
            at_us,
            "booking.attendance",
            int(f[22]),
            int(f[1]),
            "scheduling.Booking",
            str(booking_id),
            f[20],
            details,
        )

    def on_paid(self, at_us: int, payload) -> None:
        booking_id, f, starts, partner = payload
        details = PAYMENT % (partner, f[5], "paid", f[3], "unpaid", f[4], starts)
        self.audit(
            at_us,
            "booking.payment",
            int(f[22]),
            int(f[1]),
            "scheduling.Booking",
            str(booking_id),
            f[20],
            details,
        )

    def on_refunded(self, at_us: int, payload) -> None:
        booking_id, f, starts, partner = payload
        details = PAYMENT % (partner, f[5], "refunded", f[3], "paid", f[4], starts)
        self.audit(
            at_us,
            "booking.payment",
            int(f[22]),
            int(f[1]),
            "scheduling.Booking",
            str(booking_id),
            f[20],
            details,
        )
