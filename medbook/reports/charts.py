"""Server-rendered SVG charts (no JavaScript, no style attributes: the CSP allows neither).

What a reader sees (labels, titles, the scale) is written in the active language: numbers grouped with its
decimal mark, days through the one formatting helper; the data attributes keep the plain machine values.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from medbook.core.timefmt import when

PALETTE = ("#2f6fb0", "#d9822b", "#3c9a5f", "#b33a3a", "#7b5ea7", "#8c6d31", "#c2549d", "#4f8f9a")
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 36


@dataclass(frozen=True)
class Bar:
    """One rectangle of a chart, with what it stands for (its <title> and data attributes)."""

    x: float
    y: float
    width: float
    height: float
    fill: str
    label: str
    series: str
    bucket: str
    amount: str
    shown: str  # the amount as the reader writes it


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    text: str


@dataclass
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    legend: list[tuple[str, str]]
    baseline: float
    maximum: str


def _r(number: float) -> float:
    return round(number, 1)


def _number(value, decimals: int | None = None) -> str:
    """A count or an amount as the reader writes it: 1,234.50 in English, 1 234,50 in Hungarian."""
    return number_format(value, decimal_pos=decimals, use_l10n=True, force_grouping=True)


def bookings_over_time(
    *, buckets: list[date], series: dict[int, dict[date, int]], names: dict[int, str], per_week: bool
) -> Chart:
    """Stacked bars: bookings per channel in each day (or week) of the period."""
    colours = {key: PALETTE[i % len(PALETTE)] for i, key in enumerate(names)}
    totals = [sum(series.get(key, {}).get(bucket, 0) for key in names) for bucket in buckets]
    top = max(totals, default=0) or 1
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(buckets), 1)
    bars, ticks = [], []
    label_every = max(1, len(buckets) // 12)
    for index, bucket in enumerate(buckets):
        x = LEFT + index * slot + slot * 0.1
        stacked = 0
        for key, name in names.items():
            count = series.get(key, {}).get(bucket, 0)
            if not count:
                continue
            height = plot_height * count / top
            y = TOP + plot_height - plot_height * stacked / top - height
            day = when(bucket, kind="date")
            text = _("week of %(day)s") % {"day": day} if per_week else day
            bars.append(
                Bar(
                    _r(x),
                    _r(y),
                    _r(slot * 0.8),
                    _r(height),
                    colours[key],
                    f"{name} · {text}: {_number(count)}",
                    name,
                    bucket.isoformat(),
                    str(count),
                    _number(count),
                )
            )
            stacked += count
        if index % label_every == 0:
            ticks.append(Tick(_r(x + slot * 0.4), HEIGHT - BOTTOM + 14, when(bucket, kind="short_day")))
    legend = [(name, colours[key]) for key, name in names.items()]
    return Chart(WIDTH, HEIGHT, bars, ticks, legend, TOP + plot_height, _number(top))


def commission_per_partner(*, rows) -> Chart:
    """Horizontal bars: the commission due per partner, from the same rows as the table."""
    row_height, label_width = 28, 200
    height = TOP + BOTTOM + row_height * max(len(rows), 1)
    top = max((row.commission for row in rows), default=Decimal(0)) or Decimal(1)
    plot_width = WIDTH - label_width - RIGHT - 90
    bars, ticks = [], []
    for index, row in enumerate(rows):
        y = TOP + index * row_height
        width = float(plot_width * row.commission / top)
        bars.append(
            Bar(
                label_width,
                y + 4,
                _r(width),
                row_height - 8,
                PALETTE[index % len(PALETTE)],
                f"{row.name}: {_number(row.commission, 2)}",
                row.name,
                "",
                str(row.commission),
                _number(row.commission, 2),
            )
        )
        ticks.append(Tick(label_width - 8, y + row_height / 2 + 4, row.name))
    return Chart(WIDTH, height, bars, ticks, [], TOP + row_height * len(rows), _number(top, 2))
