"""Render the partner module's emails (text + HTML, in the recipient's language) into the outbox."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from medbook.notifications.services import outbox_write


def email_enqueue(*, to: str, template: str, context: dict, language: str, reference: str = "") -> None:
    """Write `templates/partners/email/<template>{_subject.txt,.txt,.html}` to the outbox (caller's transaction)."""
    name = f"partners/email/{template}"
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(language), timezone.override(context.get("time_zone") or settings.TIME_ZONE):
        subject = render_to_string(f"{name}_subject.txt", context)
        text_body = render_to_string(f"{name}.txt", context)
        html_body = render_to_string(f"{name}.html", context)
    outbox_write(
        to=to,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        language=language,
        kind=f"partner_{template}",
        reference=reference,
    )
