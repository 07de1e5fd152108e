"""Hungary's public holidays, for the demo's holiday closures and its history."""

from datetime import date, timedelta


def easter_sunday(year: int) -> date:
    """Easter Sunday of the Gregorian calendar (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (b - (b + 8) // 25 + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday_offset = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday_offset) // 451
    month, day = divmod(h + weekday_offset - 7 * m + 114, 31)
    return date(year, month, day + 1)


def hungarian_public_holidays(year: int) -> list[tuple[date, str]]:
    """The statutory public holidays of Hungary in a year."""
    easter = easter_sunday(year)
    return sorted(
        [
            (date(year, 1, 1), "New Year's Day"),
            (date(year, 3, 15), "National Day (1848 Revolution)"),
            (easter - timedelta(days=2), "Good Friday"),
            (easter + timedelta(days=1), "Easter Monday"),
            (date(year, 5, 1), "Labour Day"),
            (easter + timedelta(days=50), "Whit Monday"),
            (date(year, 8, 20), "State Foundation Day"),
            (date(year, 10, 23), "National Day (1956 Revolution)"),
            (date(year, 11, 1), "All Saints' Day"),
            (date(year, 12, 25), "Christmas Day"),
            (date(year, 12, 26), "Second Day of Christmas"),
        ]
    )


def next_public_holiday(today: date) -> tuple[date, str]:
    """The first public holiday after today that falls on a working day."""
    candidates = hungarian_public_holidays(today.year) + hungarian_public_holidays(today.year + 1)
    return next((day, name) for day, name in candidates if day > today and day.weekday() < 5)
