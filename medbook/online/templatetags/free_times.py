"""The public search's list of free times (issue 22), drawn in Python rather than by a template loop.

A page lists up to 40 times, each a link with a time, a physician and a location; the template engine's
per-variable lookups made that loop most of the page's rendering, which the search's speed aim (p95 < 30 ms)
counts. The markup is the template's as it was; every time still goes through `timefmt.when`.
"""

from collections.abc import Sequence

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from medbook.core.timefmt import when
from medbook.institutions.models import Institution
from medbook.scheduling.first_free import FreeTime

register = template.Library()

LINK = (
    '<li><a href="{}?location={}&amp;physician={}&amp;at={}" data-testid="free-time">{}'
    "<small>{} · {}</small></a></li>"
)


@register.simple_tag
def free_time_links(times: Sequence[FreeTime], institution: Institution, details_url: str) -> SafeString:
    """One link per free time to the details page of that time (location, physician, Unix seconds), its
    local time in the institution's zone, the physician and the location; every value escaped."""
    return format_html_join(
        "\n",
        LINK,
        (
            (
                details_url,
                free.location.pk,
                free.physician.pk,
                free.seconds,
                when(free.starts_at, institution, "time"),
                free.physician.full_name,
                free.location.name,
            )
            for free in times
        ),
    )
