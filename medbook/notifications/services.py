"""Write emails to the outbox; the worker (medbook.notifications.worker) sends them.

Every notification is one `OutboxMessage` row written in the transaction of the change that causes it:
if that transaction rolls back, there is no row and so no email; if it commits, the email will be sent
even when the mail server is down at that moment.
"""

import re

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation

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
) -> OutboxMessage:
    """Write one already-rendered email to the outbox in the caller's transaction."""
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
    )


def notification_enqueue(
    *,
    to: str,
    template: str,
    context: dict,
    language: str,
    kind: str = "",
    reference: str = "",
    template_dir: str = "notifications",
) -> OutboxMessage:
    """Render `templates/<template_dir>/<template>{_subject.txt,.txt,.html}` for the recipient and enqueue it.

    The parts are rendered in the recipient's `language`, with `site_url` (for absolute links) in the
    context. Times: put the zone the recipient expects (usually the institution's) in the context as
    `time_zone` (an IANA name or tzinfo); it is activated while rendering, so
    `{{ booking.starts_at|date:"Y-m-d H:i" }}` shows wall-clock time there. Without it the site's
    TIME_ZONE is used. Must run inside the caller's `transaction.atomic`.
    """
    name = f"{template_dir}/{template}"
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(language), timezone.override(context.get("time_zone") or settings.TIME_ZONE):
        subject = render_to_string(f"{name}_subject.txt", context)
        text_body = render_to_string(f"{name}.txt", context)
        html_body = render_to_string(f"{name}.html", context)
    return outbox_write(
        to=to,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        language=language,
        kind=kind or template,
        reference=reference,
    )


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
