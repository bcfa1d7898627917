"""Metric alarms (CloudWatch alarms' role): PutMetricAlarm, DescribeAlarms, DescribeAlarmHistory, DeleteAlarms,
SetAlarmState, and the evaluation pass that moves alarms between OK, ALARM and INSUFFICIENT_DATA.

:meth:`Alarms.evaluate` (also :meth:`Alarms.evaluate_alarms`) evaluates every alarm at ``now`` (deterministic:
tests pass it; the scheduler loop passes nothing, meaning the clock). How a state is decided is in
:mod:`lakeport.observe.alarms_evaluation`. A state change writes a ``StateUpdate`` history item and, when actions
are enabled, publishes CloudWatch's alarm notification JSON to each topic of the new state's actions through the
injected ``publish(topic, message, subject)`` callable (SNS: ``lake.notify.publish``); each publish is an
``Action`` history item, and a failed publish never stops the pass.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, desc, select, update

from lakeport.errors import InvalidInput, NotFound
from lakeport.metadata.times import iso, now, utc
from lakeport.observe.alarms_evaluation import (
    ALARM,
    COMPARISONS,
    EXTRA_PERIODS,
    INSUFFICIENT_DATA,
    MISSING,
    OK,
    STATES,
    TREATMENTS,
    Point,
    Rule,
    Verdict,
    decide,
)
from lakeport.observe.metrics_model import (
    STATISTICS,
    check_metric_name,
    check_namespace,
    check_period,
    check_unit,
    is_percentile,
    parse_dimensions,
)
from lakeport.observe.metrics_schema import metric_alarm_history, metric_alarms
from lakeport.observe.metrics_stats import bucket_start

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Row

    from lakeport.iam import IAM, Principal
    from lakeport.metadata.database import MetadataDB
    from lakeport.observe.metrics import Metrics

Publish = Callable[[str, str, str | None], Any]
"""``publish(topic, message, subject)``: send one message to an SNS topic (name or ARN)."""

_LOG = logging.getLogger("lakeport.observe.alarms")
_NAME = re.compile(r"^[^\x00-\x1f]{1,255}$")
PURGE_EVERY_SECONDS = 3600.0
_DEFINITION_KEYS = {
    "AlarmName",
    "AlarmDescription",
    "Namespace",
    "MetricName",
    "Dimensions",
    "Statistic",
    "ExtendedStatistic",
    "Period",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "AlarmActions",
    "OKActions",
    "InsufficientDataActions",
    "ActionsEnabled",
    "Unit",
}


class ResourceNotFound(NotFound):
    default_code = "ResourceNotFound"


class InvalidAlarm(InvalidInput):
    default_code = "InvalidParameterValue"


@dataclass(frozen=True)
class MetricAlarm:
    name: str
    arn: str
    description: str | None
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str
    unit: str | None
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison_operator: str
    treat_missing_data: str
    actions_enabled: bool
    alarm_actions: list[str]
    ok_actions: list[str]
    insufficient_data_actions: list[str]
    state: str
    state_reason: str
    state_reason_data: dict[str, Any] | None
    state_updated_at: datetime
    configuration_updated_at: datetime

    @property
    def rule(self) -> Rule:
        return Rule(
            self.comparison_operator,
            self.threshold,
            self.evaluation_periods,
            self.datapoints_to_alarm,
            self.treat_missing_data,
        )

    def actions_for(self, state: str) -> list[str]:
        return {ALARM: self.alarm_actions, OK: self.ok_actions, INSUFFICIENT_DATA: self.insufficient_data_actions}[
            state
        ]

    def to_aws(self) -> dict[str, Any]:
        """DescribeAlarms' ``MetricAlarms`` item shape."""
        out: dict[str, Any] = {
            "AlarmName": self.name,
            "AlarmArn": self.arn,
            "AlarmDescription": self.description,
            "AlarmConfigurationUpdatedTimestamp": iso(self.configuration_updated_at),
            "ActionsEnabled": self.actions_enabled,
            "OKActions": self.ok_actions,
            "AlarmActions": self.alarm_actions,
            "InsufficientDataActions": self.insufficient_data_actions,
            "StateValue": self.state,
            "StateReason": self.state_reason,
            "StateReasonData": json.dumps(self.state_reason_data) if self.state_reason_data else None,
            "StateUpdatedTimestamp": iso(self.state_updated_at),
            "MetricName": self.metric_name,
            "Namespace": self.namespace,
            "Dimensions": [{"Name": n, "Value": v} for n, v in self.dimensions],
            "Period": self.period,
            "Unit": self.unit,
            "EvaluationPeriods": self.evaluation_periods,
            "DatapointsToAlarm": self.datapoints_to_alarm,
            "Threshold": self.threshold,
            "ComparisonOperator": self.comparison_operator,
            "TreatMissingData": self.treat_missing_data,
        }
        if is_percentile(self.statistic):
            out["ExtendedStatistic"] = self.statistic
        else:
            out["Statistic"] = self.statistic
        return out


@dataclass(frozen=True)
class Transition:
    """One state change made by an evaluation pass or ``set_alarm_state``."""

    alarm: str
    old_state: str
    new_state: str
    reason: str
    published: list[str] = field(default_factory=list)  # message ids

    def to_dict(self) -> dict[str, Any]:
        return {
            "AlarmName": self.alarm,
            "OldStateValue": self.old_state,
            "NewStateValue": self.new_state,
            "NewStateReason": self.reason,
            "Published": self.published,
        }


def _alarm(row: Row[Any]) -> MetricAlarm:
    return MetricAlarm(
        name=row.name,
        arn=row.arn,
        description=row.description,
        namespace=row.namespace,
        metric_name=row.metric_name,
        dimensions=tuple((str(n), str(v)) for n, v in row.dimensions),
        statistic=row.statistic,
        unit=row.unit,
        period=row.period,
        evaluation_periods=row.evaluation_periods,
        datapoints_to_alarm=row.datapoints_to_alarm,
        threshold=row.threshold,
        comparison_operator=row.comparison_operator,
        treat_missing_data=row.treat_missing_data,
        actions_enabled=bool(row.actions_enabled),
        alarm_actions=list(row.alarm_actions or []),
        ok_actions=list(row.ok_actions or []),
        insufficient_data_actions=list(row.insufficient_data_actions or []),
        state=row.state,
        state_reason=row.state_reason,
        state_reason_data=row.state_reason_data,
        state_updated_at=utc(row.state_updated_at),
        configuration_updated_at=utc(row.configuration_updated_at),
    )


class Alarms:
    """Metric alarms of one lake, as one principal."""

    def __init__(
        self,
        db: MetadataDB,
        iam: IAM,
        principal: Principal,
        metrics: Metrics,
        publish: Publish | None = None,
        *,
        region: str,
        account_id: str,
        clock: Callable[[], datetime] = now,
    ) -> None:
        self.db = db
        self.iam = iam
        self.principal = principal
        self.metrics = metrics
        self.publish = publish
        self.region = region
        self.account_id = account_id
        self.clock = clock
        self._last_purge = 0.0

    def alarm_arn(self, name: str) -> str:
        return f"arn:aws:cloudwatch:{self.region}:{self.account_id}:alarm:{name}"

    def _authorize(self, action: str, name: str = "*") -> None:
        self.iam.authorize(self.principal, f"cloudwatch:{action}", self.alarm_arn(name))

    def _topic_arn(self, ref: str) -> str:
        ref = ref.strip()
        if not ref:
            raise InvalidAlarm("an alarm action must name an SNS topic", hint="a topic name or arn:aws:sns:…")
        return ref if ref.startswith("arn:") else f"arn:aws:sns:{self.region}:{self.account_id}:{ref}"

    # ---- configuration

    def put_metric_alarm(
        self,
        name: str,
        *,
        metric_name: str,
        namespace: str,
        statistic: str,
        period: int,
        evaluation_periods: int,
        threshold: float,
        comparison_operator: str,
        dimensions: Sequence[dict[str, Any]] | dict[str, str] | None = None,
        datapoints_to_alarm: int | None = None,
        treat_missing_data: str = MISSING,
        alarm_actions: Sequence[str] = (),
        ok_actions: Sequence[str] = (),
        insufficient_data_actions: Sequence[str] = (),
        actions_enabled: bool = True,
        description: str | None = None,
        unit: str | None = None,
    ) -> MetricAlarm:
        """Create an alarm (INSUFFICIENT_DATA until evaluated) or replace the configuration of one (its state is
        kept), as PutMetricAlarm."""
        if not isinstance(name, str) or not _NAME.match(name):
            raise InvalidAlarm(f"alarm name {name!r} must be 1-255 characters without control characters")
        self._authorize("PutMetricAlarm", name)
        check_namespace(namespace, internal=True)
        check_metric_name(metric_name)
        dims = parse_dimensions(dimensions, metric_name)
        if statistic not in STATISTICS and not is_percentile(statistic):
            raise InvalidAlarm(
                f"alarm {name}: statistic {statistic!r} is not one of {', '.join(STATISTICS)} or a percentile pNN"
            )
        check_period(period, f"alarm {name}")
        if unit is not None:
            check_unit(unit, metric_name)
        if comparison_operator not in COMPARISONS:
            raise InvalidAlarm(
                f"alarm {name}: comparison operator {comparison_operator!r} is not supported",
                hint="use " + ", ".join(COMPARISONS),
            )
        if treat_missing_data not in TREATMENTS:
            raise InvalidAlarm(
                f"alarm {name}: TreatMissingData {treat_missing_data!r} is not one of {', '.join(TREATMENTS)}"
            )
        if not isinstance(evaluation_periods, int) or evaluation_periods < 1:
            raise InvalidAlarm(f"alarm {name}: evaluation periods must be at least 1")
        if period * evaluation_periods > 7 * 86400:
            raise InvalidAlarm(f"alarm {name}: period x evaluation periods must be at most one week")
        m = evaluation_periods if datapoints_to_alarm is None else datapoints_to_alarm
        if not isinstance(m, int) or not 1 <= m <= evaluation_periods:
            raise InvalidAlarm(
                f"alarm {name}: datapoints to alarm ({m}) must be between 1 and the evaluation periods "
                f"({evaluation_periods})"
            )
        try:
            threshold = float(threshold)
        except (TypeError, ValueError):
            raise InvalidAlarm(f"alarm {name}: threshold {threshold!r} is not a number") from None
        stamp = self.clock()
        values = {
            "arn": self.alarm_arn(name),
            "description": description,
            "namespace": namespace,
            "metric_name": metric_name,
            "dimensions": [list(d) for d in dims],
            "statistic": statistic,
            "unit": unit,
            "period": period,
            "evaluation_periods": evaluation_periods,
            "datapoints_to_alarm": m,
            "threshold": threshold,
            "comparison_operator": comparison_operator,
            "treat_missing_data": treat_missing_data,
            "actions_enabled": actions_enabled,
            "alarm_actions": [self._topic_arn(a) for a in alarm_actions],
            "ok_actions": [self._topic_arn(a) for a in ok_actions],
            "insufficient_data_actions": [self._topic_arn(a) for a in insufficient_data_actions],
            "configuration_updated_at": stamp,
        }

        def work(conn: Connection) -> None:
            exists = conn.execute(select(metric_alarms.c.name).where(metric_alarms.c.name == name)).first()
            if exists:
                conn.execute(update(metric_alarms).where(metric_alarms.c.name == name).values(**values))
                summary = f'Alarm "{name}" updated'
            else:
                conn.execute(
                    metric_alarms.insert().values(
                        name=name,
                        state=INSUFFICIENT_DATA,
                        state_reason="Unchecked: Initial alarm creation",
                        state_reason_data=None,
                        state_updated_at=stamp,
                        **values,
                    )
                )
                summary = f'Alarm "{name}" created'
            conn.execute(
                metric_alarm_history.insert().values(
                    alarm_name=name,
                    timestamp=stamp,
                    item_type="ConfigurationUpdate",
                    summary=summary,
                    data={"version": "1.0", "type": "Update" if exists else "Create"},
                )
            )

        self.db.run_write(work)
        return self._get(name)

    def put_metric_alarms_from(self, definitions: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[MetricAlarm]:
        """Put alarms written as PutMetricAlarm's JSON (``aws cloudwatch put-metric-alarm --cli-input-json``): one
        object or a list of them (``examples/spotify/alarms.json``)."""
        items = [definitions] if isinstance(definitions, Mapping) else list(definitions)
        out = []
        for item in items:
            unknown = set(item) - _DEFINITION_KEYS
            if unknown or "AlarmName" not in item:
                raise InvalidAlarm(
                    f"alarm definition {item.get('AlarmName', '?')}: unknown or missing keys {sorted(unknown) or ['AlarmName']}",
                    hint="keys as PutMetricAlarm's: " + ", ".join(sorted(_DEFINITION_KEYS)),
                )
            try:
                out.append(
                    self.put_metric_alarm(
                        item["AlarmName"],
                        metric_name=item["MetricName"],
                        namespace=item["Namespace"],
                        statistic=item.get("ExtendedStatistic") or item["Statistic"],
                        period=item["Period"],
                        evaluation_periods=item["EvaluationPeriods"],
                        threshold=item["Threshold"],
                        comparison_operator=item["ComparisonOperator"],
                        dimensions=item.get("Dimensions"),
                        datapoints_to_alarm=item.get("DatapointsToAlarm"),
                        treat_missing_data=item.get("TreatMissingData", MISSING),
                        alarm_actions=item.get("AlarmActions", ()),
                        ok_actions=item.get("OKActions", ()),
                        insufficient_data_actions=item.get("InsufficientDataActions", ()),
                        actions_enabled=item.get("ActionsEnabled", True),
                        description=item.get("AlarmDescription"),
                        unit=item.get("Unit"),
                    )
                )
            except KeyError as exc:
                raise InvalidAlarm(f"alarm definition {item['AlarmName']}: {exc.args[0]} is required") from None
        return out

    def _get(self, name: str) -> MetricAlarm:
        with self.db.read() as conn:
            row = conn.execute(select(metric_alarms).where(metric_alarms.c.name == name)).first()
        if row is None:
            raise ResourceNotFound(f"alarm {name} does not exist", hint="list alarms with: lakeport alarms list")
        return _alarm(row)

    def describe_alarms(
        self, alarm_names: Sequence[str] | None = None, *, state_value: str | None = None, prefix: str | None = None
    ) -> list[MetricAlarm]:
        """Alarms by name (all when none given), optionally only those in ``state_value`` or named ``prefix*``."""
        self._authorize("DescribeAlarms")
        if state_value is not None and state_value not in STATES:
            raise InvalidAlarm(f"state {state_value!r} is not one of {', '.join(STATES)}")
        query = select(metric_alarms)
        if alarm_names:
            query = query.where(metric_alarms.c.name.in_(list(alarm_names)))
        if state_value is not None:
            query = query.where(metric_alarms.c.state == state_value)
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(metric_alarms.c.name)).all()
        alarms = [_alarm(r) for r in rows]
        return [a for a in alarms if prefix is None or a.name.startswith(prefix)]

    def describe_alarm(self, name: str) -> MetricAlarm:
        self._authorize("DescribeAlarms", name)
        return self._get(name)

    def describe_alarm_history(
        self, name: str | None = None, *, item_type: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """History items, newest first (DescribeAlarmHistory's ``AlarmHistoryItems`` shape)."""
        self._authorize("DescribeAlarmHistory", name or "*")
        query = select(metric_alarm_history)
        if name is not None:
            query = query.where(metric_alarm_history.c.alarm_name == name)
        if item_type is not None:
            query = query.where(metric_alarm_history.c.item_type == item_type)
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(desc(metric_alarm_history.c.id)).limit(limit)).all()
        return [
            {
                "AlarmName": r.alarm_name,
                "AlarmType": "MetricAlarm",
                "Timestamp": iso(utc(r.timestamp)),
                "HistoryItemType": r.item_type,
                "HistorySummary": r.summary,
                "HistoryData": json.dumps(r.data),
            }
            for r in rows
        ]

    def delete_alarms(self, names: Sequence[str]) -> None:
        """Delete alarms (their history stays readable, as CloudWatch keeps it)."""
        for name in names:
            self._authorize("DeleteAlarms", name)
            self._get(name)

        def work(conn: Connection) -> None:
            conn.execute(delete(metric_alarms).where(metric_alarms.c.name.in_(list(names))))
            for name in names:
                conn.execute(
                    metric_alarm_history.insert().values(
                        alarm_name=name,
                        timestamp=self.clock(),
                        item_type="ConfigurationUpdate",
                        summary=f'Alarm "{name}" deleted',
                        data={"version": "1.0", "type": "Delete"},
                    )
                )

        self.db.run_write(work)

    def set_alarm_state(
        self, name: str, state: str, reason: str, reason_data: dict[str, Any] | None = None
    ) -> Transition | None:
        """Force a state (SetAlarmState): history and actions as a real change; the next evaluation may undo it."""
        self._authorize("SetAlarmState", name)
        if state not in STATES:
            raise InvalidAlarm(f"alarm {name}: state {state!r} is not one of {', '.join(STATES)}")
        alarm = self._get(name)
        if alarm.state == state:
            return None
        return self._transition(alarm, Verdict(state, reason), self.clock(), reason_data)

    # ---- evaluation

    def evaluate(self, now: datetime | None = None) -> list[Transition]:
        """Evaluate every alarm at ``now`` (the clock when None); the state changes made, in name order."""
        moment = utc(now) if now is not None else self.clock()
        if time.monotonic() - self._last_purge >= PURGE_EVERY_SECONDS:
            self._last_purge = time.monotonic()
            try:
                self.metrics.purge()
            except Exception as exc:  # retention is housekeeping: it never stops alarms
                _LOG.warning("metric retention purge failed: %s", exc)
        with self.db.read() as conn:
            alarms = [_alarm(r) for r in conn.execute(select(metric_alarms).order_by(metric_alarms.c.name)).all()]
        changes = []
        for alarm in alarms:
            try:
                change = self.evaluate_one(alarm, moment)
            except Exception as exc:  # one broken alarm does not stop the others
                _LOG.warning("alarm %s could not be evaluated: %s", alarm.name, exc)
                continue
            if change is not None:
                changes.append(change)
        return changes

    evaluate_alarms = evaluate

    def evaluate_one(self, alarm: MetricAlarm, moment: datetime) -> Transition | None:
        verdict, data = self.verdict(alarm, moment)
        if verdict.state == alarm.state:
            return None
        return self._transition(alarm, verdict, moment, data)

    def verdict(self, alarm: MetricAlarm, moment: datetime) -> tuple[Verdict, dict[str, Any]]:
        """What the alarm's evaluation range says at ``moment``, and CloudWatch's StateReasonData."""
        period = timedelta(seconds=alarm.period)
        end = bucket_start(moment, alarm.period)  # the running period is not evaluated yet
        count = alarm.evaluation_periods + EXTRA_PERIODS
        start = end - count * period
        buckets = self.metrics.buckets(
            alarm.namespace,
            alarm.metric_name,
            [{"Name": n, "Value": v} for n, v in alarm.dimensions],
            start,
            end,
            alarm.period,
            unit=alarm.unit,
        )
        values = {b.start: b.statistic(alarm.statistic) for b in buckets}
        points = [Point(start + i * period, values.get(start + i * period)) for i in range(count)]
        verdict = decide(alarm.rule, points, alarm.state)
        data = {
            "version": "1.0",
            "queryDate": iso(moment),
            "startDate": iso(verdict.evaluated[0].start) if verdict.evaluated else iso(start),
            "statistic": alarm.statistic,
            "period": alarm.period,
            "recentDatapoints": [p.value for p in verdict.evaluated],
            "threshold": alarm.threshold,
            "evaluatedDatapoints": [{"timestamp": iso(p.start), "value": p.value} for p in reversed(verdict.evaluated)],
        }
        return verdict, data

    def _transition(
        self, alarm: MetricAlarm, verdict: Verdict, moment: datetime, data: dict[str, Any] | None
    ) -> Transition | None:
        old = alarm.state

        def work(conn: Connection) -> bool:
            changed = conn.execute(
                update(metric_alarms)
                .where(metric_alarms.c.name == alarm.name, metric_alarms.c.state == old)
                .values(
                    state=verdict.state,
                    state_reason=verdict.reason,
                    state_reason_data=data,
                    state_updated_at=moment,
                )
            ).rowcount
            if not changed:
                return False  # another evaluator got there first
            conn.execute(
                metric_alarm_history.insert().values(
                    alarm_name=alarm.name,
                    timestamp=moment,
                    item_type="StateUpdate",
                    summary=f"Alarm updated from {old} to {verdict.state}",
                    data={
                        "version": "1.0",
                        "oldState": {"stateValue": old, "stateReason": alarm.state_reason},
                        "newState": {
                            "stateValue": verdict.state,
                            "stateReason": verdict.reason,
                            "stateReasonData": data,
                        },
                    },
                )
            )
            return True

        if not self.db.run_write(work):
            return None
        published = self._act(alarm, old, verdict, moment) if alarm.actions_enabled else []
        return Transition(alarm.name, old, verdict.state, verdict.reason, published)

    def _act(self, alarm: MetricAlarm, old: str, verdict: Verdict, moment: datetime) -> list[str]:
        """Publish the notification to every topic of the new state's actions; record each as history."""
        topics = alarm.actions_for(verdict.state)
        if not topics:
            return []
        message = json.dumps(self.notification(alarm, old, verdict, moment))
        subject = _subject(f'{verdict.state}: "{alarm.name}" in {self.region}')
        published: list[str] = []
        for topic in topics:
            try:
                if self.publish is None:
                    raise RuntimeError("no SNS publisher is wired to the alarms service")
                result = self.publish(topic, message, subject)
                published.append(str(result))
                summary, ok = f"Successfully executed action {topic}", True
            except Exception as exc:  # an action that fails is history, never a failed evaluation
                text = exc.one_line() if hasattr(exc, "one_line") else f"{type(exc).__name__}: {exc}"
                summary, ok = f"Failed to execute action {topic}. Received error: {text}", False
            self._record_action(alarm.name, moment, summary, ok, topic)
        return published

    def _record_action(self, name: str, moment: datetime, summary: str, ok: bool, topic: str) -> None:
        def work(conn: Connection) -> None:
            conn.execute(
                metric_alarm_history.insert().values(
                    alarm_name=name,
                    timestamp=moment,
                    item_type="Action",
                    summary=summary,
                    data={"actionState": "Succeeded" if ok else "Failed", "notificationResource": topic},
                )
            )

        self.db.run_write(work)

    def notification(self, alarm: MetricAlarm, old: str, verdict: Verdict, moment: datetime) -> dict[str, Any]:
        """CloudWatch's alarm notification, as SNS subscribers receive it."""
        trigger: dict[str, Any] = {
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "StatisticType": "ExtendedStatistic" if is_percentile(alarm.statistic) else "Statistic",
            "Unit": alarm.unit,
            "Dimensions": [{"value": v, "name": n} for n, v in alarm.dimensions],
            "Period": alarm.period,
            "EvaluationPeriods": alarm.evaluation_periods,
            "DatapointsToAlarm": alarm.datapoints_to_alarm,
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": alarm.threshold,
            "TreatMissingData": alarm.treat_missing_data,
            "EvaluateLowSampleCountPercentile": "",
        }
        if is_percentile(alarm.statistic):
            trigger["ExtendedStatistic"] = alarm.statistic
        else:
            trigger["Statistic"] = alarm.statistic.upper() if alarm.statistic != "SampleCount" else "SAMPLE_COUNT"
        return {
            "AlarmName": alarm.name,
            "AlarmDescription": alarm.description,
            "AWSAccountId": self.account_id,
            "AlarmConfigurationUpdatedTimestamp": iso(alarm.configuration_updated_at),
            "NewStateValue": verdict.state,
            "NewStateReason": verdict.reason,
            "StateChangeTime": iso(moment),
            "Region": self.region,
            "AlarmArn": alarm.arn,
            "OldStateValue": old,
            "OKActions": alarm.ok_actions,
            "AlarmActions": alarm.alarm_actions,
            "InsufficientDataActions": alarm.insufficient_data_actions,
            "Trigger": trigger,
        }


def _subject(text: str) -> str:
    """An SNS subject: printable ASCII, no line breaks, at most 99 characters."""
    clean = "".join(c if 32 <= ord(c) < 127 else "?" for c in text)
    return clean[:99]
