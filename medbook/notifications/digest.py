"""Digests: a recipient who chose hourly or daily e-mails gets one message per window instead of a flood.

A notification for such a recipient is rendered at once (in their language and the institution's zone) and
kept as a `DigestEntry`, in the transaction of the change, like any outbox write. Once its window has
ended, `digests_send` (run by the worker loop, or `manage.py send_digests`) writes one outbox message with
all the recipient's waiting entries of that frequency and marks them sent in it, in one transaction:

- Windows follow the clock of the entry's zone: hourly, the entries of a full past hour (10:00-10:59 go
  out after 11:00); daily, those of a past local day (they go out after local midnight). Entries of several
  ended windows (a worker that was down) go out together, in one message.
- Exactly once: the entries are locked (`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's
  IMMEDIATE transactions serialise writers), and marking them is a compare-and-set on `sent_in IS NULL`:
  a run that finds any of them taken by another rolls its message back.
"""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from medbook.notifications.models import DigestEntry, OutboxMessage
from medbook.notifications.services import (
    OutboxOutsideTransaction,
    notification_enqueue,
    render_parts,
)

Frequency = DigestEntry.Frequency


class _DigestTaken(Exception):
    """Another run marked some of the entries first: this run's message is rolled back."""


def digest_entry_add(
    *,
    to: str,
    frequency: str,
    template: str,
    line_template: str,
    context: dict,
    language: str,
    template_dir: str = "notifications",
    kind: str = "",
    reference: str = "",
) -> DigestEntry:
    """Keep a notification for the recipient's `frequency` digest, in the caller's transaction.

    Its subject is `<template>_subject.txt` (the subject the e-mail of its own would have), its lines
    `<line_template>.txt` and `.html`, rendered as `notification_enqueue` renders (language, `time_zone`).
    """
    if not transaction.get_connection().in_atomic_block:
        raise OutboxOutsideTransaction(
            "Write a digest entry inside the transaction of the change it reports."
        )
    name, lines = f"{template_dir}/{template}", f"{template_dir}/{line_template}"
    subject, text, html = render_parts(
        names=(f"{name}_subject.txt", f"{lines}.txt", f"{lines}.html"), context=context, language=language
    )
    zone = context.get("time_zone")
    return DigestEntry.objects.create(
        to_email=to,
        language=language,
        frequency=Frequency(frequency),
        time_zone=str(zone) if zone else "UTC",
        subject=" ".join(subject.split())[:300],
        text=text.strip(),
        html=html.strip(),
        kind=kind or template,
        reference=reference,
    )


def digest_entries_withdraw(*, reference: str, since: datetime) -> int:
    """Delete the unsent entries of `reference` kept since `since` (a change that was undone); how many."""
    entries = DigestEntry.objects.filter(reference=reference, sent_in__isnull=True, created_at__gte=since)
    return entries.delete()[0]


def window_start(frequency: str, zone: str, now: datetime) -> datetime:
    """The start of the window running at `now` on the clock of `zone`: entries before it are due."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    if frequency == Frequency.HOURLY:
        start = local.replace(minute=0, second=0, microsecond=0)  # keeps the fold: the repeated hour too
    else:
        start = datetime.combine(local.date(), time(0), tzinfo=tz)
    return start.astimezone(UTC)


def digests_send(*, now: datetime | None = None) -> int:
    """Write one digest message per recipient and frequency whose entries' windows have ended; return how
    many messages were written."""
    now = now or timezone.now()
    written = 0
    for frequency in Frequency:
        waiting = DigestEntry.objects.filter(frequency=frequency, sent_in__isnull=True, created_at__lt=now)
        recipients = sorted(set(waiting.values_list("to_email", flat=True)))
        for to_email in recipients:
            written += digest_compose(frequency=frequency, to_email=to_email, now=now) is not None
    return written


def digest_compose(*, frequency: str, to_email: str, now: datetime) -> OutboxMessage | None:
    """Write the recipient's digest of `frequency` with the entries due at `now`, once; None if none are
    due or another run took them."""
    try:
        with transaction.atomic():
            waiting = DigestEntry.objects.filter(
                frequency=frequency, to_email=to_email, sent_in__isnull=True, created_at__lt=now
            )
            locked = list(waiting.select_for_update(skip_locked=True).order_by("created_at", "pk"))
            due = [e for e in locked if e.created_at < window_start(frequency, e.time_zone, now)]
            if not due:
                return None
            message = _digest_message(frequency=frequency, to_email=to_email, entries=due)
            marked = DigestEntry.objects.filter(pk__in=[e.pk for e in due], sent_in__isnull=True)
            if marked.update(sent_in=message) != len(due):
                raise _DigestTaken()
            return message
    except _DigestTaken:
        return None


def _digest_message(*, frequency: str, to_email: str, entries: list[DigestEntry]) -> OutboxMessage:
    """The outbox message of one digest: every entry's subject and lines, oldest first."""
    latest = entries[-1]
    return notification_enqueue(
        to=to_email,
        template="digest",
        context={
            "entries": entries,
            "frequency": frequency,
            "hourly": frequency == Frequency.HOURLY,
            "time_zone": latest.time_zone,
        },
        language=latest.language,
        kind=f"digest_{frequency}",
        reference=f"digest:{frequency}:{entries[0].pk}-{latest.pk}",
    )
