"""Dates at the edge: the horizon's months as calendar days, computed once per scenario.

Month m (1..H) starts on `start` + (m - 1) calendar months, same day of month, clamped to the
month's last day. Month 0, the investment, is the month before `start`. Below this module the
arithmetic sees only month indices.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date


def add_months(start: date, months: int) -> date:
    y, m = divmod(start.month - 1 + months, 12)
    year, month = start.year + y, m + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def month_of(start: date, when: date) -> int:
    """The 1-based month of the horizon that `when` falls in (0: before month 1)."""
    if when < start:
        return 0
    m = (when.year - start.year) * 12 + when.month - start.month
    if add_months(start, m) > when:
        m -= 1
    return m + 1


@dataclass(frozen=True)
class Calendar:
    """First days of months 0..H (`firsts[m]`) and the first day after the horizon (`end`)."""

    start: date
    horizon: int
    firsts: tuple[date, ...]
    end: date

    @classmethod
    def of(cls, start: date, horizon: int) -> Calendar:
        firsts = tuple(add_months(start, m - 1) for m in range(horizon + 1))
        return cls(start, horizon, firsts, add_months(start, horizon))

    def month_containing(self, when: date) -> int:
        """Month 1..H containing `when`; `when` must lie in [start, end)."""
        return month_of(self.start, when)
