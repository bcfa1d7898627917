"""How one metric alarm decides its state from its datapoints (pure: no database, no clock).

The rules are CloudWatch's ("Configuring how CloudWatch alarms treat missing data"):

- The alarm looks at the **evaluation range**: its ``EvaluationPeriods`` (N) most recent whole periods plus
  ``EXTRA_PERIODS`` older ones (CloudWatch retrieves "a higher number of data points than N"; lakeport fixes
  the extra at 2). Only whole periods count: the period still running is not evaluated yet.
- If at least N periods of the range have real datapoints, the N most recent real ones are evaluated (reaching
  back into the range past missing periods) and the missing-data treatment is not used.
- If some are real but fewer than N, the missing ones are filled per ``TreatMissingData`` as few times as
  possible (N - real): ``breaching`` counts them as breaching, ``notBreaching`` as not; ``missing`` and
  ``ignore`` evaluate only the real datapoints.
- If every period of the range is missing: ``missing`` → INSUFFICIENT_DATA, ``ignore`` → the state is kept,
  ``breaching`` → ALARM, ``notBreaching`` → OK.
- ALARM when at least ``DatapointsToAlarm`` (M) of the evaluated N are breaching; otherwise OK. With
  ``missing``/``ignore`` and fewer than M real datapoints, CloudWatch's rule against premature transitions still
  alarms when the oldest breaching datapoint is at least M periods old and everything newer is breaching or
  missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
STATES = (OK, ALARM, INSUFFICIENT_DATA)
EXTRA_PERIODS = 2
MISSING, IGNORE, BREACHING, NOT_BREACHING = "missing", "ignore", "breaching", "notBreaching"
TREATMENTS = (MISSING, IGNORE, BREACHING, NOT_BREACHING)
COMPARISONS: dict[str, tuple[str, Any]] = {
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", lambda v, t: v >= t),
    "GreaterThanThreshold": ("greater than", lambda v, t: v > t),
    "LessThanThreshold": ("less than", lambda v, t: v < t),
    "LessThanOrEqualToThreshold": ("less than or equal to", lambda v, t: v <= t),
}


@dataclass(frozen=True)
class Point:
    """One period of the evaluation range: its start and its value (None: missing)."""

    start: datetime
    value: float | None


@dataclass(frozen=True)
class Rule:
    comparison: str
    threshold: float
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing_data: str

    def breaches(self, value: float) -> bool:
        return bool(COMPARISONS[self.comparison][1](value, self.threshold))


@dataclass(frozen=True)
class Verdict:
    state: str
    reason: str
    evaluated: list[Point] = field(default_factory=list)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%d/%m/%y %H:%M:%S")


def _number(value: float) -> str:
    return repr(float(value))


def decide(rule: Rule, points: Sequence[Point], current: str) -> Verdict:
    """The state ``points`` (the evaluation range, oldest first) put the alarm in, and CloudWatch's reason."""
    n, m = rule.evaluation_periods, rule.datapoints_to_alarm
    real = [p for p in points if p.value is not None]
    if not real:
        count = len(points)
        if rule.treat_missing_data == IGNORE:
            return Verdict(current, f"Insufficient Data: {count} datapoints were unknown; the state is kept (ignore).")
        if rule.treat_missing_data == MISSING:
            plural = "datapoint was" if count == 1 else "datapoints were"
            return Verdict(INSUFFICIENT_DATA, f"Insufficient Data: {count} {plural} unknown.")
        bad = rule.treat_missing_data == BREACHING
        state = ALARM if bad and m <= n else OK
        word = "breaching" if bad else "not breaching"
        return Verdict(
            state,
            f"Threshold Crossed: no datapoints were received for {count} periods and {count} missing datapoints "
            f"were treated as {word}.",
        )
    if len(real) >= n:
        evaluated = real[-n:]
        breaching = sum(1 for p in evaluated if rule.breaches(p.value or 0.0))
        return _threshold_verdict(rule, evaluated, breaching, n, current)
    filled = n - len(real)
    breaching = sum(1 for p in real if rule.breaches(p.value or 0.0))
    if rule.treat_missing_data == BREACHING:
        return _threshold_verdict(rule, real, breaching + filled, n, current, filled=filled)
    if rule.treat_missing_data == NOT_BREACHING:
        return _threshold_verdict(rule, real, breaching, n, current, filled=filled)
    if breaching < m and _premature_alarm(rule, points[-n:], m):
        breaching = m
    return _threshold_verdict(rule, real, breaching, n, current)


def _premature_alarm(rule: Rule, window: Sequence[Point], m: int) -> bool:
    """The oldest breaching datapoint is at least M periods old and all newer ones breach or are missing."""
    ages = list(reversed(window))  # newest first: age 1, 2, ...
    oldest_breaching = 0
    for age, point in enumerate(ages, start=1):
        if point.value is not None and rule.breaches(point.value):
            oldest_breaching = age
    if oldest_breaching < m:
        return False
    return all(p.value is None or rule.breaches(p.value) for p in ages[:oldest_breaching])


def _threshold_verdict(
    rule: Rule, evaluated: Sequence[Point], breaching: int, n: int, current: str, *, filled: int = 0
) -> Verdict:
    words = COMPARISONS[rule.comparison][0]
    m = rule.datapoints_to_alarm
    newest_first = list(reversed(evaluated))
    if breaching >= m:
        state, shown = ALARM, [p for p in newest_first if p.value is not None and rule.breaches(p.value)]
        verb = "was" if breaching == 1 else "were"
        relation = words
        transition = f"(minimum {m} datapoint{'s' if m > 1 else ''} for {current} -> ALARM transition)"
    else:
        state, shown = OK, [p for p in newest_first if p.value is not None and not rule.breaches(p.value)]
        breaching = n - breaching
        verb = "was" if breaching == 1 else "were"
        relation = f"not {words}"
        transition = f"(minimum {n - m + 1} datapoint{'s' if n - m + 1 > 1 else ''} for {current} -> OK transition)"
    listed = ", ".join(f"{_number(p.value or 0.0)} ({_stamp(p.start)})" for p in shown)
    extra = f" ({filled} missing datapoint{'s' if filled > 1 else ''} filled per TreatMissingData)" if filled else ""
    reason = (
        f"Threshold Crossed: {breaching} out of the last {n} datapoints [{listed}] {verb} {relation} "
        f"the threshold ({_number(rule.threshold)}){extra} {transition}."
    )
    return Verdict(state, reason, list(evaluated))
