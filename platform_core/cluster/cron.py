"""Standard 5-field cron expressions, evaluated in UTC.

``croniter`` is not a dependency, and the CronJob controller only needs two things: to validate
a schedule when a CronJob is created and to find the next time it fires. The grammar is the one
Kubernetes accepts (robfig/cron): ``minute hour day-of-month month day-of-week`` with ``*``,
``?``, lists, ranges, steps, month/day names, ``7`` as Sunday, and the macros ``@yearly``,
``@annually``, ``@monthly``, ``@weekly``, ``@daily``, ``@midnight`` and ``@hourly``.

As in Vixie cron, when both day-of-month and day-of-week are restricted a day matches if
*either* does; when one of them is ``*`` only the other one counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    )
}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
# (name, lowest, highest, names) for each field, in order.
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 0, 7, _DAYS),
)
_HORIZON_YEARS = 9  # a schedule that does not fire within this many years never fires (Feb 30)


@dataclass(frozen=True, slots=True)
class CronSchedule:
    """A parsed schedule: the allowed values of each field."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    days_restricted: bool
    weekdays_restricted: bool

    def matches_day(self, moment: datetime) -> bool:
        """Whether the calendar day of ``moment`` is allowed (Vixie OR/AND rule)."""
        in_days = moment.day in self.days
        in_weekdays = (moment.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return in_days or in_weekdays
        return in_days and in_weekdays

    def next_after(self, moment: datetime) -> datetime | None:
        """The first firing time strictly after ``moment``; ``None`` if it never fires."""
        current = moment.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        horizon = current.year + _HORIZON_YEARS
        while current.year <= horizon:
            if current.month not in self.months:
                year, month = (
                    (current.year + 1, 1)
                    if current.month == 12
                    else (current.year, current.month + 1)
                )
                current = current.replace(year=year, month=month, day=1, hour=0, minute=0)
            elif not self.matches_day(current):
                current = (current + timedelta(days=1)).replace(hour=0, minute=0)
            elif current.hour not in self.hours:
                current = (current + timedelta(hours=1)).replace(minute=0)
            elif current.minute not in self.minutes:
                current += timedelta(minutes=1)
            else:
                return current
        return None


def parse_cron(expression: str) -> CronSchedule:
    """Parse ``expression`` or raise ``ValueError`` naming the offending field."""
    text = _MACROS.get(expression.strip().lower(), expression.strip())
    parts = text.split()
    if len(parts) != 5:
        raise ValueError(
            f"invalid schedule {expression!r}: expected 5 fields "
            "(minute hour day-of-month month day-of-week) or a macro such as @hourly"
        )
    values = [
        _parse_field(part, name, low, high, names)
        for part, (name, low, high, names) in zip(parts, _FIELDS, strict=True)
    ]
    weekdays = frozenset(0 if d == 7 else d for d in values[4])
    return CronSchedule(
        expression=expression,
        minutes=values[0],
        hours=values[1],
        days=values[2],
        months=values[3],
        weekdays=weekdays,
        days_restricted=not parts[2].startswith(("*", "?")),
        weekdays_restricted=not parts[4].startswith(("*", "?")),
    )


def _parse_field(
    text: str, name: str, low: int, high: int, names: dict[str, int]
) -> frozenset[int]:
    allowed: set[int] = set()
    for item in text.split(","):
        allowed.update(_parse_item(item, name, low, high, names))
    return frozenset(allowed)


def _parse_item(item: str, name: str, low: int, high: int, names: dict[str, int]) -> range:
    base, _, step_text = item.partition("/")
    step = _number(step_text, name, names={}) if step_text else 1
    if step < 1:
        raise ValueError(f"invalid {name} step in {item!r}")
    if base in {"*", "?"}:
        start, end = low, high
    elif "-" in base:
        first, _, last = base.partition("-")
        start, end = _number(first, name, names), _number(last, name, names)
    else:
        start = _number(base, name, names)
        end = high if step_text else start
    if not low <= start <= end <= high:
        raise ValueError(f"invalid {name} value {item!r}: allowed range is {low}-{high}")
    return range(start, end + 1, step)


def _number(text: str, name: str, names: dict[str, int]) -> int:
    upper = text.upper()
    if upper in names:
        return names[upper]
    if not text.isdigit():
        raise ValueError(f"invalid {name} value {text!r}")
    return int(text)
