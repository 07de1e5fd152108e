"""Times as integers (UTC seconds or microseconds since the epoch) and their text for COPY and the audit hash.

The generator handles millions of instants; formatting them from cached day and second-of-day strings is
many times faster than datetime.isoformat() and gives the very text PostgreSQL reads back.
"""

from datetime import UTC, date, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY_SECONDS = 86_400
MICRO = 1_000_000
_SECONDS = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY_SECONDS)]
_DAYS: dict[int, str] = {}


def _day(day_number: int) -> str:
    text = _DAYS.get(day_number)
    if text is None:
        text = _DAYS[day_number] = (date(1970, 1, 1) + timedelta(days=day_number)).isoformat()
    return text


def seconds_of(moment: datetime) -> int:
    """An aware datetime as whole UTC seconds."""
    return int((moment - EPOCH).total_seconds())


def copy_s(seconds: int) -> str:
    """A timestamptz literal of whole seconds."""
    day, second = divmod(seconds, DAY_SECONDS)
    return f"{_day(day)} {_SECONDS[second]}+00"


def copy_us(micros: int) -> str:
    """A timestamptz literal with microseconds."""
    seconds, fraction = divmod(micros, MICRO)
    day, second = divmod(seconds, DAY_SECONDS)
    return f"{_day(day)} {_SECONDS[second]}.{fraction:06d}+00"


def iso_s(seconds: int) -> str:
    """What `datetime.isoformat()` gives for a UTC instant of whole seconds."""
    day, second = divmod(seconds, DAY_SECONDS)
    return f"{_day(day)}T{_SECONDS[second]}+00:00"


def iso_us(micros: int) -> str:
    """What the audit chain hashes: `isoformat(timespec="microseconds")` in UTC."""
    seconds, fraction = divmod(micros, MICRO)
    day, second = divmod(seconds, DAY_SECONDS)
    return f"{_day(day)}T{_SECONDS[second]}.{fraction:06d}+00:00"


def datetime_s(seconds: int) -> datetime:
    return EPOCH + timedelta(seconds=seconds)


def datetime_us(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)
