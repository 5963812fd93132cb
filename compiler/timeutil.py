"""Calendar arithmetic in Python, matching the SQL the compiler emits (used for example rows)."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta

from .ir import Duration


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
    return ts + timedelta(days=duration.days * sign)
