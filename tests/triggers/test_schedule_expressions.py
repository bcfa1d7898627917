"""EventBridge schedule expressions: the examples of AWS's EventBridge user guide ("Using cron and rate expressions
to schedule rules"), with next fire times worked out by hand from the documented semantics.

The reference moment is Saturday 2026-11-21 17:05 UTC. November 2026 starts on a Sunday; December 2026 on a
Tuesday; 2027-01-01 is a Friday.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lakeport.errors import InvalidInput
from lakeport.triggers import parse_schedule

NOW = datetime(2026, 11, 21, 17, 5, tzinfo=UTC)


def at(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


CASES = [
    # the user guide's examples
    ("cron(15 10 * * ? *)", at(2026, 11, 22, 10, 15)),  # 10:15 every day
    ("cron(0 18 ? * MON-FRI *)", at(2026, 11, 23, 18, 0)),  # 18:00 Monday to Friday (today is Saturday)
    ("cron(0 8 1 * ? *)", at(2026, 12, 1, 8, 0)),  # 08:00 on the first day of every month
    ("cron(0/15 * * * ? *)", at(2026, 11, 21, 17, 15)),  # every 15 minutes
    ("cron(0/10 * ? * MON-FRI *)", at(2026, 11, 23, 0, 0)),  # every 10 minutes, Monday to Friday
    ("cron(0/5 8-17 ? * MON-FRI *)", at(2026, 11, 23, 8, 0)),  # every 5 minutes, 08:00-17:55, weekdays
    ("cron(0 9 ? * 2#1 *)", at(2026, 12, 7, 9, 0)),  # 09:00 on the first Monday of each month
    ("cron(0 20 * * ? *)", at(2026, 11, 21, 20, 0)),  # the API reference's example
    ("cron(1/10 * * * ? *)", at(2026, 11, 21, 17, 11)),  # 1/10: minutes 1, 11, 21, …
    # L, W, # and names
    ("cron(0 0 L * ? *)", at(2026, 11, 30, 0, 0)),  # last day of the month
    ("cron(15 10 ? * 6L *)", at(2026, 11, 27, 10, 15)),  # last Friday of the month
    ("cron(0 12 ? * L *)", at(2026, 11, 21, 12, 0).replace(day=28)),  # L alone in day-of-week: Saturday
    ("cron(0 0 15W * ? *)", at(2026, 12, 15, 0, 0)),  # 15 December 2026 is a Tuesday
    ("cron(0 0 1W * ? *)", at(2026, 12, 1, 0, 0)),  # 1 December is a Tuesday
    ("cron(0 0 LW * ? *)", at(2026, 11, 30, 0, 0)),  # last weekday of November: Monday the 30th
    ("cron(0 0 LW 1 ? 2028)", at(2028, 1, 31, 0, 0)),  # 31 January 2028 is a Monday
    ("cron(0 0 1W 5 ? 2027)", at(2027, 5, 3, 0, 0)),  # 1 May 2027 is a Saturday: the Monday after
    ("cron(0 0 31W 10 ? 2027)", at(2027, 10, 29, 0, 0)),  # 31 October 2027 is a Sunday: the Friday before
    ("cron(0 12 ? JAN,JUL MON *)", at(2027, 1, 4, 12, 0)),
    ("cron(30 6 ? * SUN *)", at(2026, 11, 22, 6, 30)),
    ("cron(30 6 ? * 1 *)", at(2026, 11, 22, 6, 30)),  # 1 is Sunday
    ("cron(30 6 ? * 7 *)", at(2026, 11, 28, 6, 30)),  # 7 is Saturday (today's 06:30 has passed)
    ("cron(0 0 29 2 ? *)", at(2028, 2, 29, 0, 0)),  # only in leap years
    ("cron(0 0 31 * ? *)", at(2026, 12, 31, 0, 0)),  # November has no 31st
    ("cron(0 10 * * ? 2019-2022)", None),  # the years have passed
    ("cron(5 17 21 11 ? 2026)", None),  # exactly now: strictly after, so never again
    ("cron(6 17 21 11 ? 2026)", at(2026, 11, 21, 17, 6)),
    ("cron(0 */6 * * ? *)", at(2026, 11, 21, 18, 0)),
    ("cron(0 0 ? * 5#5 *)", at(2026, 12, 31, 0, 0)),  # a fifth Thursday: none in November 2026, 31 December
    # rate and at
    ("rate(1 minute)", at(2026, 11, 21, 17, 6)),
    ("rate(5 minutes)", at(2026, 11, 21, 17, 10)),
    ("rate(1 hour)", at(2026, 11, 21, 18, 5)),
    ("rate(7 days)", at(2026, 11, 28, 17, 5)),
    ("at(2026-12-01T09:00:00)", at(2026, 12, 1, 9, 0)),
    ("at(2026-11-01T09:00:00)", None),
]


@pytest.mark.parametrize(("expression", "expected"), CASES, ids=[c[0] for c in CASES])
def test_next_fire(expression: str, expected: datetime | None) -> None:
    assert parse_schedule(expression).next_after(NOW, anchor=NOW) == expected


def test_a_rate_counts_periods_from_its_anchor() -> None:
    every = parse_schedule("rate(10 minutes)")
    anchor = at(2026, 11, 21, 16, 58)
    assert every.next_after(NOW, anchor=anchor) == at(2026, 11, 21, 17, 8)
    assert every.next_after(at(2026, 11, 21, 17, 8), anchor=anchor) == at(2026, 11, 21, 17, 18)


def test_a_sequence_of_fires() -> None:
    cron = parse_schedule("cron(0/20 9-10 ? * MON-FRI *)")
    moment, fires = NOW, []
    for _ in range(7):
        found = cron.next_after(moment)
        assert found is not None
        fires.append(found.strftime("%a %H:%M"))
        moment = found
    assert fires == ["Mon 09:00", "Mon 09:20", "Mon 09:40", "Mon 10:00", "Mon 10:20", "Mon 10:40", "Tue 09:00"]


BAD = [
    ("cron(0 12 * * * *)", "Day-of-month and Day-of-week"),  # neither is ?
    ("cron(0 12 ? * ? *)", "Day-of-month and Day-of-week"),  # both are ?
    ("cron(0 12 * * ?)", "6 fields"),
    ("cron(60 12 * * ? *)", "Minutes: 60 is outside 0-59"),
    ("cron(0 24 * * ? *)", "Hours: 24 is outside 0-23"),
    ("cron(0 12 32 * ? *)", "Day-of-month: 32 is outside 1-31"),
    ("cron(0 12 ? 13 MON *)", "Month: 13 is outside 1-12"),
    ("cron(0 12 ? * 0 *)", "Day-of-week: 0 is outside 1-7"),
    ("cron(0 12 ? * FUN *)", "Day-of-week: 'FUN' is not a number"),
    ("cron(0 12 * * ? 1969)", "Year: 1969 is outside 1970-2199"),
    ("cron(0 12 ? * 2#6 *)", "Day-of-week: in '2#6'"),
    ("cron(0/0 12 * * ? *)", "Minutes: the step"),
    ("cron(? 12 * * ? *)", "Minutes: '?' is allowed only"),
    ("cron(0 12 5L * ? *)", "Day-of-month: '5L' is not a valid value"),
    ("cron(0 12 10-5 * ? *)", "Day-of-month: the range '10-5' runs backwards"),
    ("rate(1 minutes)", "singular"),
    ("rate(5 minute)", "plural"),
    ("rate(0 minutes)", "positive"),
    ("rate(5 weeks)", "unit 'weeks'"),
    ("rate(five minutes)", "value unit"),
    ("at(2026-13-01T00:00:00)", "not a valid date"),
    ("at(2026-12-01 09:00)", "at(yyyy-mm-ddThh:mm:ss)"),
    ("every day", "rate(value unit), cron(six fields)"),
]


@pytest.mark.parametrize(("expression", "message"), BAD, ids=[b[0] for b in BAD])
def test_invalid_expressions_name_the_field(expression: str, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_schedule(expression)
    assert message in info.value.message
    assert info.value.hint
