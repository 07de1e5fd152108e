"""The public search's list of free times (issue 22), drawn in Python rather than by a template loop.

A page lists up to 40 times, each a link with a time, a physician and a location; the template engine's
per-variable lookups, then `format_html`'s per-argument escaping, made that list most of the page's
rendering, which the search's speed aim (p95 < 30 ms) counts. The markup is the template's as it was; every
time still goes through `timefmt.when`; every text is escaped (each calendar's names once).
"""

from collections.abc import Sequence

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from medbook.core.timefmt import when
from medbook.institutions.models import Institution
from medbook.scheduling.first_free import FreeTime

register = template.Library()

LINK = (
    '<li><a href="{url}?location={location:d}&amp;physician={physician:d}&amp;at={at:d}" '
    'data-testid="free-time">{time}{names}</a></li>'
)


@register.simple_tag
def free_time_links(times: Sequence[FreeTime], institution: Institution, details_url: str) -> SafeString:
    """One link per free time to the details page of that time (location, physician, Unix seconds), its
    local time in the institution's zone, the physician and the location; every text escaped."""
    url = escape(details_url)
    names: dict[tuple[int, int], SafeString] = {}  # each calendar's physician and location, escaped once
    links = []
    for free in times:
        calendar = (free.physician.pk, free.location.pk)
        if calendar not in names:
            names[calendar] = format_html(
                "<small>{} · {}</small>", free.physician.full_name, free.location.name
            )
        links.append(
            LINK.format(
                url=url,
                location=free.location.pk,
                physician=free.physician.pk,
                at=free.seconds,
                time=escape(when(free.starts_at, institution, "time")),
                names=names[calendar],
            )
        )
    # Safe: the texts are escaped above, and the ids and seconds are written as integers (`:d`).
    return mark_safe("\n".join(links))  # noqa: S308
