"""Scheduled reports (a dashboard exported and published to an SNS topic: a file subscription and a real SMTP
server) and SPICE refreshes on a schedule or after a state machine succeeds, run by the triggers' dispatcher."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lakeport import Lake
from lakeport.cli.main import main
from lakeport.dashboards import DefinitionError, parse_dashboard, parse_dataset
from lakeport.dashboards.schedules import rule_name, send_report
from lakeport.errors import NotFound
from lakeport.triggers import scheduler_for
from tests.dashboards.conftest import DASHBOARD, DATASET, tracks_table, write_table
from tests.notify.conftest import FAST
from tests.notify.test_email import Inbox, smtp  # noqa: F401  (a real SMTP server on loopback)
from tests.web import browser as web_browser

REPORTS = [
    {"name": "daily", "schedule": "rate(1 day)", "topic": "reports", "format": "html", "subject": "Music daily",
     "filters": {"genre": ["pop"]}},
    {"name": "weekly", "schedule": "cron(0 7 ? * MON *)", "topic": "reports", "format": "pdf"},
]  # fmt: skip

LOAD = {
    "StartAt": "Check",
    "States": {
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "Boom"}],
                  "Default": "Done"},
        "Boom": {"Type": "Fail", "Error": "LoadFailed", "Cause": "on purpose"},
        "Done": {"Type": "Succeed"},
    },
}  # fmt: skip


@pytest.fixture
def lake(tmp_path: Path, smtp: tuple[Inbox, int]) -> Iterator[Lake]:  # noqa: F811
    _, port = smtp
    values = {**FAST, "notify.smtp_host": "127.0.0.1", "notify.smtp_port": str(port),
              "notify.smtp_from": "reports@lakeport.test"}  # fmt: skip
    lake = Lake.init(tmp_path / "lake", values=values)
    write_table(lake, tracks_table())
    lake.dashboards.datasets.create_data_set(DATASET)
    lake.notify.create_topic("reports")
    lake.notify.subscribe("reports", "file", "events/reports.jsonl")
    lake.notify.subscribe("reports", "email", "team@example.com")
    yield lake
    lake.notify.drain(timeout=30)
    lake.close()


@pytest.fixture(autouse=True)
def _chromium(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEPORT_CHROMIUM", web_browser.chromium_path())


def _lines(lake: Lake) -> list[dict[str, Any]]:
    path = lake.root / "events" / "reports.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_report_and_refresh_definitions_are_validated() -> None:
    board = {**DASHBOARD, "reports": [
        {"name": "a", "schedule": "every day", "topic": "reports"},
        {"name": "b", "schedule": "at(2030-01-01T00:00:00)", "topic": "bad topic!", "format": "gif"},
        {"name": "c", "schedule": "rate(1 day)", "topic": "t", "filters": {"genres": ["pop"]}, "colour": "red",
         "parameters": {"top": "many"}, "subject": "two\nlines"},
        {"name": "c", "schedule": "rate(1 day)", "topic": "t"},
    ]}  # fmt: skip
    with pytest.raises(DefinitionError) as caught:
        parse_dashboard(board)
    errors = caught.value.errors
    assert any(e.startswith("dashboard music, report a: schedule expression 'every day'") for e in errors)
    assert "dashboard music, report b: schedule 'at(2030-01-01T00:00:00)': at(…) fires once; a report or refresh " \
           "repeats: rate(…) or cron(…)" in errors  # fmt: skip
    assert any(e.startswith("dashboard music, report b: topic 'bad topic!' is not an SNS topic name") for e in errors)
    assert "dashboard music, report b: format 'gif' is not one of html, pdf, png" in errors
    assert any("report c: filter 'genres' is not a filter of the dashboard (did you mean genre?)" in e for e in errors)
    assert any(e.startswith("dashboard music, report c: unknown key 'colour'") for e in errors)
    assert "dashboard music, report c, parameter top: value 'many' is not a integer" in errors
    assert any(e.startswith("dashboard music, report c: subject must be") for e in errors)
    assert "dashboard music, report c: two reports have this name" in errors
    good = parse_dashboard({**DASHBOARD, "reports": REPORTS})
    assert [(r.name, r.format, r.schedule) for r in good.reports] == [
        ("daily", "html", "rate(1 day)"), ("weekly", "pdf", "cron(0 7 ? * MON *)")]  # fmt: skip
    with pytest.raises(NotFound, match="dashboard music has no report 'dayly' \\(did you mean daily\\?\\)"):
        good.report("dayly")

    with pytest.raises(DefinitionError) as caught:
        parse_dataset({**DATASET, "refresh": {"schedule": "rate(1 day)"}})
    assert caught.value.errors == [
        "dataset tracks, refresh: only a SPICE dataset is refreshed (a DIRECT_QUERY one always reads its source)"
    ]
    with pytest.raises(DefinitionError) as caught:
        parse_dataset({**DATASET, "import_mode": "SPICE",
                       "refresh": {"after": [{"state_machine": "load", "job": "x"}, {"crawler": "c"}], "when": 1}})  # fmt: skip
    assert any("dataset tracks, refresh: unknown key 'when'" in e for e in caught.value.errors)
    assert sum("is not {state_machine: NAME} or {job: NAME}" in e for e in caught.value.errors) == 2
    with pytest.raises(DefinitionError, match="dataset tracks, refresh: give a schedule, an after list, or both"):
        parse_dataset({**DATASET, "import_mode": "SPICE", "refresh": {}})
    spice = parse_dataset({**DATASET, "import_mode": "SPICE",
                           "refresh": {"schedule": "rate(6 hours)", "after": [{"state_machine": "load"}, {"job": "etl"}]}})  # fmt: skip
    assert spice.refresh is not None
    assert spice.refresh.after == (("state_machine", "load"), ("job", "etl"))
    assert parse_dataset(spice.to_dict()) == spice  # stored and read back


def test_report_filter_values_are_checked_against_their_columns(lake: Lake) -> None:
    board = {**DASHBOARD, "reports": [{"name": "bad", "schedule": "rate(1 day)", "topic": "reports",
                                       "filters": {"years": ["soon", 2020]}}]}  # fmt: skip
    with pytest.raises(DefinitionError, match="dashboard music, report bad, filter years"):
        lake.dashboards.create_dashboard(board)
    assert not [r for r in lake.triggers.list_rules() if r.target.startswith("report/music/")]


def test_sending_a_report_stores_the_file_and_publishes_it(lake: Lake, smtp: tuple[Inbox, int]) -> None:  # noqa: F811
    inbox, _ = smtp
    lake.dashboards.create_dashboard({**DASHBOARD, "reports": REPORTS})
    sent = send_report(lake.dashboards, lake.notify, "music", "daily")
    assert sent.path is not None
    assert sent.path.is_file()
    assert sent.path.is_relative_to(lake.root)
    assert sent.uri.startswith("s3://") and "/results/reports/music/daily/" in sent.uri  # noqa: PT018
    assert sent.path.read_text().startswith("<!DOCTYPE html>")
    assert sent.size == sent.path.stat().st_size
    (line,) = _lines(lake)
    assert line["MessageId"] == sent.message_id
    assert line["Subject"] == "Music daily"
    assert line["MessageAttributes"]["ReportUri"]["Value"] == sent.uri
    assert line["MessageAttributes"]["ReportPath"]["Value"] == str(sent.path)
    assert sent.path.as_uri() in line["Message"]
    assert "genre = ['pop']" in line["Message"]
    (mail,) = [m for _, rcpt, m in inbox.messages if rcpt == ["team@example.com"]]
    assert mail["Subject"] == "Music daily"
    body = mail.get_content()
    assert sent.path.as_uri() in body  # emails link the file (they are plain text)
    assert "Music: report daily of dashboard music (HTML" in body


def test_report_rules_fire_on_schedule_and_go_with_the_report(lake: Lake) -> None:
    # the daily report alone at first: the weekly one (Mondays 07:00) would be due within the day when the test
    # runs between Sunday 07:00 and Monday 07:00, and fire in the pass before the daily's time
    lake.dashboards.create_dashboard({**DASHBOARD, "reports": REPORTS[:1]})
    daily = lake.triggers.describe_rule(rule_name("report", "music", "daily"))
    assert daily.schedule == "rate(1 day)"
    assert (daily.target_kind, daily.target) == ("dashboards", "report/music/daily")
    assert daily.to_dict()["Targets"][0]["Arn"] == "arn:aws:quicksight:us-east-1:000000000000:dashboard/music"
    assert daily.next_fire is not None
    scheduler = scheduler_for(lake, scan=False)
    assert scheduler.run_once(daily.next_fire - timedelta(minutes=1)).fired == 0
    report = scheduler.run_once(daily.next_fire)
    assert (report.fired, report.started, report.errors) == (1, 1, [])
    (line,) = _lines(lake)
    stored = Path(line["MessageAttributes"]["ReportPath"]["Value"])
    assert stored.is_file()
    assert stored.is_relative_to(lake.root)
    assert stored.parts[-5:-1] == ("results", "reports", "music", "daily")
    (delivery,) = lake.triggers.list_deliveries(f"rule/{daily.name}")
    assert (delivery.status, delivery.run_id) == ("STARTED", line["MessageAttributes"]["ReportUri"]["Value"])

    lake.dashboards.update_dashboard({**DASHBOARD, "reports": REPORTS[1:]})
    names = {r.name for r in lake.triggers.list_rules()}
    assert rule_name("report", "music", "daily") not in names
    assert rule_name("report", "music", "weekly") in names
    lake.dashboards.delete_dashboard("music")
    assert not [r for r in lake.triggers.list_rules() if r.target.startswith("report/music/")]


def test_a_spice_dataset_is_refreshed_after_its_state_machine_succeeds(lake: Lake) -> None:
    lake.states.create_state_machine("load", json.dumps(LOAD))
    spice = {**DATASET, "name": "snap", "import_mode": "SPICE",
             "refresh": {"schedule": "rate(1 hour)", "after": [{"state_machine": "load"}]}}  # fmt: skip
    lake.dashboards.datasets.create_data_set(spice)
    assert len(lake.dashboards.datasets.list_ingestions("snap")) == 1  # ingested when created
    after = lake.triggers.describe_rule(rule_name("refresh", "snap", "state_machine", "load"))
    assert after.pattern == {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"status": ["SUCCEEDED"], "stateMachineArn": ["arn:aws:states:us-east-1:000000000000:stateMachine:load"]},
    }  # fmt: skip
    scheduler = scheduler_for(lake, scan=False)

    assert lake.states.start_execution("load", {"fail": True}, name="bad", wait=True).status == "FAILED"
    assert scheduler.run_once().started == 0
    assert len(lake.dashboards.datasets.list_ingestions("snap")) == 1  # not after a failed execution

    assert lake.states.start_execution("load", {"fail": False}, name="good", wait=True).status == "SUCCEEDED"
    assert scheduler.run_once().started == 1
    history = lake.dashboards.datasets.list_ingestions("snap")
    assert len(history) == 2
    assert history[0].status == "COMPLETED"
    assert history[0].rows == 120

    timer = lake.triggers.describe_rule(rule_name("refresh", "snap"))
    assert timer.schedule == "rate(1 hour)"
    assert timer.next_fire is not None
    report = scheduler.run_once(timer.next_fire)
    assert (report.fired, report.started) == (1, 1)
    assert len(lake.dashboards.datasets.list_ingestions("snap")) == 3

    lake.dashboards.datasets.update_data_set({**spice, "refresh": {"after": [{"job": "etl"}]}})
    rules = {r.name: r for r in lake.triggers.list_rules() if r.target == "refresh/snap"}
    assert list(rules) == [rule_name("refresh", "snap", "job", "etl")]
    assert rules[rule_name("refresh", "snap", "job", "etl")].pattern == {
        "source": ["aws.glue"], "detail-type": ["Glue Job State Change"],
        "detail": {"state": ["SUCCEEDED"], "jobName": ["etl"]}}  # fmt: skip
    lake.dashboards.datasets.delete_data_set("snap")
    assert not [r for r in lake.triggers.list_rules() if r.target == "refresh/snap"]


def test_cli_sends_a_report_now(lake: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    lake.dashboards.create_dashboard({**DASHBOARD, "reports": REPORTS})
    capsys.readouterr()
    code = main(["--lake", str(lake.root), "--output", "json", "dashboards", "report", "music", "weekly"])
    out, err = capsys.readouterr()
    assert code == 0, err
    sent = json.loads(out)
    assert (sent["Report"], sent["Format"], sent["Topic"]) == ("weekly", "pdf", "reports")
    assert Path(sent["Path"]).read_bytes().startswith(b"%PDF")
    assert [line["MessageId"] for line in _lines(lake)] == [sent["MessageId"]]
    code = main(["--lake", str(lake.root), "dashboards", "report", "music", "monthly"])
    _, err = capsys.readouterr()
    assert code != 0
    assert "dashboard music has no report 'monthly'" in err
