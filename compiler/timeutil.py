"""Time in Python: calendar arithmetic matching the SQL the compiler emits (used for example rows),
and the default as_of."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta, timezone

from .ir import Duration


def now_utc() -> datetime:
    """Now, in UTC, to the second (naive): the default as_of."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def shift(ts: datetime, duration: Duration, sign: int = 1) -> datetime:
    """`ts` moved by `duration`; months and years clamp the day to the end of the target month.

    >>> shift(datetime(2026, 3, 31), Duration(1, "mo"), -1)
    datetime.datetime(2026, 2, 28, 0, 0)
    """
    if duration.unit in ("mo", "y"):
        months = duration.amount * (12 if duration.unit == "y" else 1) * sign
        index = ts.year * 12 + ts.month - 1 + months
        year, month = divmod(index, 12)
        day = min(ts.day, calendar.monthrange(year, month + 1)[1])
        return ts.replace(year=year, month=month + 1, day=day)
    return ts + timedelta(seconds=duration.seconds * sign)
