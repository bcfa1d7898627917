"""Scheduled reports and SPICE refreshes, wired through the triggers (EventBridge's role).

A dashboard's ``reports`` and a dataset's ``refresh`` become rules of ``lake.triggers`` whose target is the
dashboards service itself (target kind ``dashboards``): ``report/DASHBOARD/REPORT`` or ``refresh/DATASET``.
A schedule is a rule with that schedule expression; ``after: [{state_machine: X}]`` is a rule on the bus
matching X's "Step Functions Execution Status Change" with status SUCCEEDED (``{job: Y}``: "Glue Job State
Change", state SUCCEEDED). The rules are put when the dashboard or dataset is created or updated, as its author
(the dispatcher runs them as that principal), and removed with it. ``lakeport scheduler`` (or ``serve``) runs them.

Sending a report exports the dashboard, stores the file under ``results/reports/<dashboard>/<report>/`` in the
lake's bucket and publishes a message to the report's SNS topic: a summary with a link to the file (emails are
plain text, so the file is linked, not attached), the file's URI and path as message attributes.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakeport.errors import InvalidInput, NotFound
from lakeport.metadata.times import now
from lakeport.triggers.model import DASHBOARDS, RULE, digest

if TYPE_CHECKING:
    from lakeport.dashboards.dataset_definition import DataSetDefinition
    from lakeport.dashboards.definition import DashboardDefinition
    from lakeport.dashboards.service import Dashboards
    from lakeport.notify import Notifications
    from lakeport.triggers import Triggers

REPORTS_PREFIX = "results/reports/"
_RULE_NAME_LIMIT = 64


def schedule_problem(value: Any) -> str | None:
    """Why ``value`` is not a repeating schedule expression (rate(…) or cron(…)); None when it is one."""
    from lakeport.triggers.schedule_expressions import parse_schedule

    if not isinstance(value, str) or not value.strip():
        return "schedule is an expression: rate(1 day) or cron(0 7 * * ? *)"
    try:
        parsed = parse_schedule(value)
    except InvalidInput as exc:
        return exc.message
    if parsed.one_time:
        return f"schedule {value!r}: at(…) fires once; a report or refresh repeats: rate(…) or cron(…)"
    return None


# ---- the rules


def rule_name(kind: str, *parts: str) -> str:
    """``qs-<kind>-<parts>`` (at most 64 characters; a long one ends with a digest of the whole)."""
    name = "-".join(("qs", kind, *parts))
    if len(name) <= _RULE_NAME_LIMIT:
        return name
    return f"{name[: _RULE_NAME_LIMIT - 21]}-{digest(name)}"


def report_target(dashboard: str, report: str) -> str:
    return f"report/{dashboard}/{report}"


def refresh_target(dataset: str) -> str:
    return f"refresh/{dataset}"


def sync_report_rules(triggers: Triggers, definition: DashboardDefinition) -> None:
    """Put a schedule rule for each report of the dashboard; remove the rules of reports it no longer has."""
    wanted: dict[str, tuple[str, str, dict[str, Any] | None, str]] = {}
    for report in definition.reports:
        name = rule_name("report", definition.name, report.name)
        what = f"dashboard {definition.name}: report {report.name} ({report.format} to topic {report.topic})"
        wanted[name] = (report_target(definition.name, report.name), report.schedule, None, what)
    _sync(triggers, f"report/{definition.name}/", wanted)


def sync_refresh_rules(triggers: Triggers, definition: DataSetDefinition, region: str, account_id: str) -> None:
    """Put the rules that refresh a SPICE dataset (its schedule, each ``after``); remove the others."""
    wanted: dict[str, tuple[str, str, dict[str, Any] | None, str]] = {}
    target = refresh_target(definition.name)
    refresh = definition.refresh if definition.import_mode == "SPICE" else None
    if refresh is not None and refresh.schedule:
        what = f"dataset {definition.name}: SPICE refresh on schedule"
        wanted[rule_name("refresh", definition.name)] = (target, refresh.schedule, None, what)
    for kind, name in refresh.after if refresh is not None else ():
        what = f"dataset {definition.name}: SPICE refresh after {kind} {name} succeeds"
        pattern = after_pattern(kind, name, region, account_id)
        wanted[rule_name("refresh", definition.name, kind, name)] = (target, "", pattern, what)
    _sync(triggers, target, wanted, exact=True)


def remove_rules(triggers: Triggers, target_prefix: str, *, exact: bool = False) -> None:
    _sync(triggers, target_prefix, {}, exact=exact)


def after_pattern(kind: str, name: str, region: str, account_id: str) -> dict[str, Any]:
    """The event pattern of a state machine's successful execution or a job's successful run."""
    if kind == "state_machine":
        arn = f"arn:aws:states:{region}:{account_id}:stateMachine:{name}"
        return {
            "source": ["aws.states"],
            "detail-type": ["Step Functions Execution Status Change"],
            "detail": {"status": ["SUCCEEDED"], "stateMachineArn": [arn]},
        }
    return {
        "source": ["aws.glue"],
        "detail-type": ["Glue Job State Change"],
        "detail": {"state": ["SUCCEEDED"], "jobName": [name]},
    }


def _sync(
    triggers: Triggers,
    target: str,
    wanted: dict[str, tuple[str, str, dict[str, Any] | None, str]],
    *,
    exact: bool = False,
) -> None:
    # every rule of this owner, enabled or not (the service's own listing: no events:ListRules for the author)
    existing = [
        r
        for r in triggers._all(RULE)
        if r.target_kind == DASHBOARDS and (r.target == target if exact else r.target.startswith(target))
    ]
    for rule in existing:
        if rule.name not in wanted:
            triggers.delete_rule(rule.name)
    current = {r.name: r for r in existing}
    for name, (rule_target, schedule, pattern, description) in wanted.items():
        found = current.get(name)
        if (
            found is not None
            and found.target == rule_target
            and (found.schedule or "") == schedule
            and found.pattern == pattern
            and found.description == description
        ):
            continue  # unchanged: keeps its rhythm and its cursor
        triggers.put_rule(
            name,
            schedule=schedule or None,
            event_pattern=pattern,
            target_dashboards=rule_target,
            description=description,
        )


# ---- running a target (the dispatcher, as the rule's principal)


def run_target(host: Any, target: str, payload: Any = None) -> str:
    """Run a dashboards target for the dispatcher; ``host`` is the lake as the rule's principal (its
    ``dashboards`` and ``notify``). Returns what the delivery records: the report's file URI or the ingestion id."""
    action, _, rest = target.partition("/")
    if action == "report":
        dashboard, _, report = rest.partition("/")
        return send_report(host.dashboards, host.notify, dashboard, report).uri
    if action == "refresh":
        return str(host.dashboards.datasets.create_ingestion(rest).id)
    raise InvalidInput(f"dashboards target {target!r} is not report/DASHBOARD/REPORT or refresh/DATASET")


@dataclass(frozen=True)
class ReportSent:
    dashboard: str
    report: str
    topic: str
    format: str
    uri: str  # s3://bucket/results/reports/…
    path: Path | None  # the file, on a lake with local storage
    size: int
    message_id: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "Dashboard": self.dashboard,
            "Report": self.report,
            "Topic": self.topic,
            "Format": self.format,
            "Uri": self.uri,
            "Path": str(self.path) if self.path is not None else None,
            "Size": self.size,
            "MessageId": self.message_id,
        }


def send_report(
    dashboards: Dashboards, notify: Notifications, dashboard: str, report: str, *, wait: bool = True
) -> ReportSent:
    """Export the dashboard as the report says, store the file in the lake and publish it to the report's topic
    (``wait``: deliver before returning, retries included)."""
    from lakeport.dashboards.export import export_document, write_export
    from lakeport.storage.local import LocalBackend

    dashboards._authorize("QueryDashboard", dashboard)
    found = dashboards._definition(dashboard).report(report)
    where = f"dashboard {dashboard}, report {report}"
    document = export_document(dashboards, dashboard, filters=found.filters, parameters=found.parameters)
    stamp = now()
    key = f"{REPORTS_PREFIX}{dashboard}/{report}/{stamp.strftime('%Y%m%dT%H%M%S%fZ')}.{found.format}"
    with tempfile.TemporaryDirectory(prefix="lakeport-report-") as folder:
        written = write_export(document, found.format, Path(folder) / f"report.{found.format}")
        body = written.read_bytes()
    from lakeport.dashboards.export import CONTENT_TYPES

    storage = dashboards.datasets.service_storage()
    bucket = dashboards.datasets.bucket
    storage.put_object(bucket, key, body, content_type=CONTENT_TYPES[found.format])
    uri = f"s3://{bucket}/{key}"
    backend = storage.backend
    path = backend.root / bucket / key if isinstance(backend, LocalBackend) else None
    visuals = [v for s in document["Sheets"] for v in s.get("Visuals", [])]
    failed = [v for v in visuals if "Error" in v]
    lines = [
        f"{document['Title']}: report {report} of dashboard {dashboard} ({found.format.upper()}, {len(body):,} bytes), "
        f"made {document['MadeAt']}.",
        f"Sheets: {', '.join(str(s['Sheet']) for s in document['Sheets'])}; {len(visuals)} visuals"
        + (f", {len(failed)} could not be drawn ({', '.join(str(v['Visual']) for v in failed)})." if failed else "."),
    ]
    if found.filters:
        lines.append("Filters: " + "; ".join(f"{k} = {v!r}" for k, v in found.filters.items()) + ".")
    lines.append(f"File: {path.as_uri() if path is not None else uri}")
    if path is not None:
        lines.append(f"In the lake: {uri}")
    attributes: dict[str, Any] = {
        "Dashboard": dashboard,
        "Report": report,
        "Format": found.format,
        "ReportUri": uri,
    }
    if path is not None:
        attributes["ReportPath"] = str(path)
    subject = found.subject or f"{document['Title']}: {report}"
    subject = "".join(c if 32 <= ord(c) < 127 else "?" for c in subject)[:99]
    try:
        message_id = notify.publish(
            found.topic, "\n".join(lines), subject=subject, message_attributes=attributes, wait=wait
        )
    except (InvalidInput, NotFound) as exc:
        raise type(exc)(f"{where}: {exc.message}", hint=exc.hint, code=exc.code) from None
    return ReportSent(dashboard, report, found.topic, found.format, uri, path, len(body), message_id)
