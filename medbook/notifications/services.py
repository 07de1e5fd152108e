"""Write emails to the outbox; the worker (medbook.notifications.worker) sends them.

Every notification is one `OutboxMessage` row written in the transaction of the change that causes it:
if that transaction rolls back, there is no row and so no email; if it commits, the email will be sent
even when the mail server is down at that moment.
"""

import re
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from medbook.notifications.models import OutboxMessage


class OutboxOutsideTransaction(RuntimeError):
    """An outbox write outside `transaction.atomic`: it would not be tied to the change that causes it."""


def outbox_write(
    *,
    to: str,
    subject: str,
    text_body: str,
    html_body: str = "",
    language: str = "en",
    kind: str = "",
    reference: str = "",
    attachments: list[dict] | None = None,
    send_at: datetime | None = None,
) -> OutboxMessage:
    """Write one already-rendered email to the outbox in the caller's transaction.

    `attachments` are files sent with it: [{"filename", "content_type", "content"}] with text content (an
    iCalendar invitation). With `send_at` the message waits until then (a reminder).
    """
    if not transaction.get_connection().in_atomic_block:
        raise OutboxOutsideTransaction("Write to the outbox inside the transaction of the change it reports.")
    return OutboxMessage.objects.create(
        to_email=to,
        language=language,
        subject=" ".join(subject.split())[:300],
        text_body=text_body,
        html_body=html_body,
        kind=kind,
        reference=reference,
        attachments=[_attachment_checked(attachment) for attachment in attachments or []],
        next_attempt_at=send_at or timezone.now(),
    )


def _attachment_checked(attachment: dict) -> dict:
    """The attachment as the worker expects it: a file name, a MIME type and text content."""
    filename, content_type, content = (attachment[key] for key in ("filename", "content_type", "content"))
    if not (isinstance(filename, str) and filename and "/" in content_type and isinstance(content, str)):
        raise ValueError(f"an attachment needs a file name, a MIME type and text content: {filename!r}")
    return {"filename": filename, "content_type": content_type, "content": content}


def render_parts(*, names: tuple[str, ...], context: dict, language: str) -> list[str]:
    """Render the templates `names` for a recipient: in their `language`, times in `context["time_zone"]`.

    The context gets `site_url` (for absolute links). Without a `time_zone` the site's TIME_ZONE is used.
    """
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(language), timezone.override(context.get("time_zone") or settings.TIME_ZONE):
        return [render_to_string(name, context) for name in names]


def notification_enqueue(
    *,
    to: str,
    template: str,
    context: dict,
    language: str,
    kind: str = "",
    reference: str = "",
    template_dir: str = "notifications",
    attachments: list[dict] | None = None,
    send_at: datetime | None = None,
) -> OutboxMessage:
    """Render `templates/<template_dir>/<template>{_subject.txt,.txt,.html}` for the recipient and enqueue it.

    The parts are rendered in the recipient's `language`, with `site_url` (for absolute links) in the
    context. Times: put the zone the recipient expects (usually the institution's) in the context as
    `time_zone` (an IANA name or tzinfo); it is activated while rendering, so
    `{{ booking.starts_at|date:"Y-m-d H:i" }}` shows wall-clock time there. Without it the site's
    TIME_ZONE is used. `attachments` and `send_at` as for `outbox_write`. Must run inside the caller's
    `transaction.atomic`.
    """
    name = f"{template_dir}/{template}"
    subject, text_body, html_body = render_parts(
        names=(f"{name}_subject.txt", f"{name}.txt", f"{name}.html"), context=context, language=language
    )
    return outbox_write(
        to=to,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        language=language,
        kind=kind or template,
        reference=reference,
        attachments=attachments,
        send_at=send_at,
    )


WITHDRAWABLE = (OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING, OutboxMessage.Status.FAILED)


def outbox_withdraw(*, reference: str, send_at: datetime | None = None) -> int:
    """Mark the unsent messages of `reference` withdrawn (a reminder of a moved or cancelled booking), in
    the caller's transaction; return how many. With `send_at`, only those written to wait until then (the
    e-mails of a change that could be undone until that moment).

    A message being sent at this moment is withdrawn too: its worker then skips it, unless it is already
    on the wire (then it is marked sent, which is what happened).
    """
    if not transaction.get_connection().in_atomic_block:
        raise OutboxOutsideTransaction("Withdraw inside the transaction of the change that makes it stale.")
    messages = OutboxMessage.objects.filter(reference=reference, status__in=WITHDRAWABLE)
    if send_at is not None:
        messages = messages.filter(next_attempt_at=send_at)
    return messages.update(status=OutboxMessage.Status.WITHDRAWN, claim_token=None)


def outbox_count(*, reference: str, kinds: tuple[str, ...]) -> int:
    """How many messages of these kinds were ever written for `reference` (withdrawn ones included)."""
    return OutboxMessage.objects.filter(reference=reference, kind__in=kinds).count()


# Rules of higher apps the worker asks before sending a message of a kind (notifications imports no app):
# e.g. scheduling's "the booking of this reminder is still booked and ahead".
SendCheck = Callable[[OutboxMessage], bool]
_SEND_CHECKS: dict[str, SendCheck] = {}


def outbox_send_check_register(*, kind: str, check: SendCheck) -> None:
    """Have the worker ask `check(message)` right before sending a message of `kind`: False withdraws it."""
    _SEND_CHECKS[kind] = check


def outbox_still_wanted(message: OutboxMessage) -> bool:
    """Whether the message should still go out (no check of its kind says otherwise): a registered one, or
    the one OUTBOX_SEND_CHECKS names for the kind (a dotted path, so that this app imports no other)."""
    check = _SEND_CHECKS.get(message.kind)
    if check is None and message.kind in settings.OUTBOX_SEND_CHECKS:
        check = _SEND_CHECKS[message.kind] = import_string(settings.OUTBOX_SEND_CHECKS[message.kind])
    return check is None or check(message)


@transaction.atomic
def outbox_retry_now(*, messages: QuerySet[OutboxMessage]) -> int:
    """Make pending or failed messages due at once (the operator's "retry now"); return how many.

    Attempts are kept: a failed message that fails again goes straight back to failed, still visible.
    """
    retryable = [OutboxMessage.Status.PENDING, OutboxMessage.Status.FAILED]
    return messages.filter(status__in=retryable).update(
        status=OutboxMessage.Status.PENDING, next_attempt_at=timezone.now()
    )


# A secret in a link: a long run of token characters in a URL's path (registration, set-password and
# invitation links are signed tokens of 20 characters and more).
_SECRET_IN_LINK = re.compile(r"(https?://[^\s\"'<>]*?/)([A-Za-z0-9_:\-]{20,})")
REDACTED = "[link removed]"


def redact_links(text: str) -> str:
    """The text with the secrets of its links removed: what the operator and the database keep once the
    message is sent (a live link lets whoever reads it register, set a password or accept a role)."""
    return _SECRET_IN_LINK.sub(lambda match: match.group(1) + REDACTED, text or "")
