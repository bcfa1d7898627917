"""EventBridge schedule expressions: ``rate(…)``, ``cron(…)`` (six fields, with a year) and ``at(…)``.

Written here rather than on croniter because EventBridge's cron differs from Unix cron in ways croniter does
not express: day-of-week 1-7 means SUN-SAT (Unix: 0-6), one of day-of-month/day-of-week must be ``?`` (there
is no "either matches" rule), a sixth field is the year, and ``W`` (nearest weekday) exists.

* ``rate(1 minute)``, ``rate(5 minutes)``, ``rate(1 hour)``, ``rate(2 days)``: singular unit for 1, plural
  otherwise. Fires every period counted from an anchor (the moment the rule or schedule was created).
* ``cron(Minutes Hours Day-of-month Month Day-of-week Year)``, always in UTC here: ``*``, ``,``, ``-``, ``/``
  everywhere; ``?`` in day-of-month or day-of-week (exactly one of them); ``L`` (last day of the month; in
  day-of-week, ``L`` is Saturday and ``5L`` the month's last Thursday); ``15W`` (the weekday nearest the 15th,
  within the month) and ``LW``; ``3#2`` (the month's second Tuesday); JAN-DEC and SUN-SAT.
* ``at(2026-11-21T18:00:00)``: once, at that moment (UTC).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lakeport.errors import InvalidInput

__all__ = ["ScheduleExpression", "parse_schedule"]

MONTHS = {
    name: i
    for i, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1
    )
}
DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
YEARS = (1970, 2199)
_HINT = "see docs/triggers.md: cron(Minutes Hours Day-of-month Month Day-of-week Year), e.g. cron(0 12 * * ? *)"


def _error(expression: str, message: str) -> InvalidInput:
    return InvalidInput(f"schedule expression {expression!r}: {message}", hint=_HINT, code="ValidationException")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int] | None = None


FIELDS = (
    _Field("Minutes", 0, 59),
    _Field("Hours", 0, 23),
    _Field("Day-of-month", 1, 31),
    _Field("Month", 1, 12, MONTHS),
    _Field("Day-of-week", 1, 7, DAYS),
    _Field("Year", *YEARS),
)


class _Cron:
    """A parsed cron expression: fixed value sets, plus the day rules that depend on the month."""

    def __init__(self, expression: str, body: str) -> None:
        self.expression = expression
        parts = body.split()
        if len(parts) != 6:
            raise _error(expression, f"a cron expression has 6 fields, this one has {len(parts)}")
        minutes, hours, dom, month, dow, year = parts
        if (dom == "?") == (dow == "?"):
            raise _error(
                expression,
                "exactly one of Day-of-month and Day-of-week must be '?' (the other says which days)",
            )
        self.minutes = sorted(self._values(FIELDS[0], minutes))
        self.hours = sorted(self._values(FIELDS[1], hours))
        self.months = sorted(self._values(FIELDS[3], month))
        self.years = sorted(self._values(FIELDS[5], year))
        self.dom = None if dom == "?" else self._day_rules(FIELDS[2], dom)
        self.dow = None if dow == "?" else self._day_rules(FIELDS[4], dow)

    # ---- parsing

    def _number(self, field: _Field, text: str) -> int:
        if field.names and text.upper() in field.names:
            return field.names[text.upper()]
        if not text.isdigit():
            raise _error(self.expression, f"{field.name}: {text!r} is not a number{self._names_hint(field)}")
        value = int(text)
        if not field.low <= value <= field.high:
            raise _error(self.expression, f"{field.name}: {value} is outside {field.low}-{field.high}")
        return value

    @staticmethod
    def _names_hint(field: _Field) -> str:
        return f" or one of {', '.join(field.names)}" if field.names else ""

    def _values(self, field: _Field, text: str) -> set[int]:
        """``*``, ``a``, ``a-b``, ``a/n``, ``*/n``, ``a-b/n``, comma-separated."""
        if text == "?":
            raise _error(self.expression, f"{field.name}: '?' is allowed only in Day-of-month and Day-of-week")
        found: set[int] = set()
        for item in text.split(","):
            if not item:
                raise _error(self.expression, f"{field.name}: an empty list item in {text!r}")
            base, slash, step_text = item.partition("/")
            step = 1
            if slash:
                if not step_text.isdigit() or int(step_text) == 0:
                    raise _error(self.expression, f"{field.name}: the step in {item!r} must be a positive number")
                step = int(step_text)
            if base == "*":
                low, high = field.low, field.high
            elif "-" in base:
                first, _, last = base.partition("-")
                low, high = self._number(field, first), self._number(field, last)
                if low > high:
                    raise _error(self.expression, f"{field.name}: the range {base!r} runs backwards")
            else:
                low = self._number(field, base)
                high = field.high if slash else low
            found.update(range(low, high + 1, step))
        return found

    def _day_rules(self, field: _Field, text: str) -> list[str | int]:
        """Day rules: plain numbers, or special items (``L``, ``LW``, ``15W``, ``5L``, ``3#2``) kept as text."""
        rules: list[str | int] = []
        for item in text.split(","):
            upper = item.upper()
            if field.name == "Day-of-month" and (upper in ("L", "LW") or re.fullmatch(r"\d{1,2}W", upper)):
                if upper.endswith("W") and upper != "LW":
                    self._number(field, upper[:-1])
                rules.append(upper)
            elif field.name == "Day-of-week" and upper == "L":
                rules.append(7)  # L alone in Day-of-week: the last day of the week, Saturday
            elif field.name == "Day-of-week" and upper.endswith("L") and len(upper) > 1:
                self._number(field, upper[:-1])
                rules.append(upper)
            elif field.name == "Day-of-week" and "#" in upper:
                day, _, nth = upper.partition("#")
                self._number(field, day)
                if not nth.isdigit() or not 1 <= int(nth) <= 5:
                    raise _error(self.expression, f"{field.name}: in {item!r} the week after '#' must be 1-5")
                rules.append(upper)
            elif re.search(r"[LW#]", re.sub("|".join(field.names or {"^$": 0}), "", upper)):
                raise _error(self.expression, f"{field.name}: {item!r} is not a valid value")
            else:
                rules.extend(sorted(self._values(field, item)))
        return rules

    # ---- evaluating

    def _dow_number(self, text: str) -> int:
        return DAYS[text] if text in DAYS else int(text)

    def days(self, year: int, month: int) -> list[int]:
        """The days of ``month`` that match the day-of-month or day-of-week rules."""
        last = calendar.monthrange(year, month)[1]
        found: set[int] = set()
        if self.dom is not None:
            for rule in self.dom:
                if isinstance(rule, int):
                    if rule <= last:
                        found.add(rule)
                elif rule == "L":
                    found.add(last)
                elif rule == "LW":
                    found.add(_nearest_weekday(year, month, last))
                else:  # nW
                    day = int(rule[:-1])
                    if day <= last:
                        found.add(_nearest_weekday(year, month, day))
        if self.dow is not None:
            for day in range(1, last + 1):
                weekday = (calendar.weekday(year, month, day) + 1) % 7 + 1  # Python MON=0 → EventBridge SUN=1
                for rule in self.dow:
                    if isinstance(rule, int):
                        hit = weekday == rule
                    elif rule.endswith("L"):
                        hit = weekday == self._dow_number(rule[:-1]) and day + 7 > last
                    else:  # d#n
                        wanted, nth = rule.split("#")
                        hit = weekday == self._dow_number(wanted) and (day - 1) // 7 + 1 == int(nth)
                    if hit:
                        found.add(day)
                        break
        return sorted(found)

    def next_after(self, moment: datetime) -> datetime | None:
        start = (moment.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)).replace(tzinfo=None)
        for year in self.years:
            if year < start.year:
                continue
            for month in self.months:
                if (year, month) < (start.year, start.month):
                    continue
                for day in self.days(year, month):
                    if (year, month, day) < (start.year, start.month, start.day):
                        continue
                    for hour in self.hours:
                        for minute in self.minutes:
                            candidate = datetime(year, month, day, hour, minute)
                            if candidate >= start:
                                return candidate.replace(tzinfo=UTC)
        return None


def _nearest_weekday(year: int, month: int, day: int) -> int:
    """The weekday (Mon-Fri) nearest ``day``, never crossing into another month (Quartz's ``W``)."""
    last = calendar.monthrange(year, month)[1]
    weekday = calendar.weekday(year, month, day)  # MON=0 … SUN=6
    if weekday == 5:  # Saturday: the Friday before, or the Monday after when the 1st is a Saturday
        return day - 1 if day > 1 else day + 2
    if weekday == 6:  # Sunday: the Monday after, or the Friday before when it is the month's last day
        return day + 1 if day < last else day - 2
    return day


_RATE = re.compile(r"^\s*(\d+)\s+([a-z]+)\s*$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_AT = re.compile(r"^\s*(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\s*$")


@dataclass(frozen=True)
class ScheduleExpression:
    """A parsed schedule expression; :meth:`next_after` gives the next moment it fires."""

    text: str
    kind: str  # rate | cron | at
    period: timedelta | None = None
    moment: datetime | None = None
    cron: _Cron | None = None

    @property
    def one_time(self) -> bool:
        return self.kind == "at"

    def next_after(self, moment: datetime, *, anchor: datetime | None = None) -> datetime | None:
        """The first fire time strictly after ``moment`` (aware, UTC), or None when it never fires again.

        A rate counts its periods from ``anchor`` (the moment the rule was created; ``moment`` when not given)."""
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        if self.kind == "at":
            assert self.moment is not None
            return self.moment if self.moment > moment else None
        if self.kind == "rate":
            assert self.period is not None
            base = anchor or moment
            base = base if base.tzinfo else base.replace(tzinfo=UTC)
            if base > moment:
                return base
            periods = int((moment - base) / self.period) + 1
            return base + periods * self.period
        assert self.cron is not None
        return self.cron.next_after(moment)


def parse_schedule(text: str) -> ScheduleExpression:
    """Parse ``rate(…)``, ``cron(…)`` or ``at(…)``; InvalidInput naming the field at fault otherwise."""
    stripped = text.strip()
    match = re.fullmatch(r"(rate|cron|at)\((.*)\)", stripped, flags=re.DOTALL)
    if not match:
        raise _error(text, "it must be rate(value unit), cron(six fields) or at(yyyy-mm-ddThh:mm:ss)")
    kind, body = match.groups()
    if kind == "rate":
        found = _RATE.match(body)
        if not found:
            raise _error(text, "a rate is 'value unit', e.g. rate(5 minutes)")
        value, unit = int(found.group(1)), found.group(2)
        singular = unit.removesuffix("s")
        if singular not in _UNITS:
            raise _error(text, f"unit {unit!r} is not minute(s), hour(s) or day(s)")
        if value < 1:
            raise _error(text, "the value must be a positive whole number")
        if value == 1 and unit != singular:
            raise _error(text, f"a value of 1 takes the singular unit: rate(1 {singular})")
        if value > 1 and unit == singular:
            raise _error(text, f"a value above 1 takes the plural unit: rate({value} {singular}s)")
        return ScheduleExpression(stripped, "rate", period=timedelta(seconds=value * _UNITS[singular]))
    if kind == "at":
        found = _AT.match(body)
        if not found:
            raise _error(text, "a one-time schedule is at(yyyy-mm-ddThh:mm:ss)")
        try:
            moment = datetime.fromisoformat(found.group(1)).replace(tzinfo=UTC)
        except ValueError as exc:
            raise _error(text, f"not a valid date and time: {exc}") from None
        return ScheduleExpression(stripped, "at", moment=moment)
    return ScheduleExpression(stripped, "cron", cron=_Cron(text, body))
