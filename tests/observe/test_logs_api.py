"""CloudWatch Logs' API on the log store: groups, streams, retention, GetLogEvents/FilterLogEvents shapes and
paging, and IAM on the user-facing facade (the services' own writes stay unauthorized)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lakeport import Lake
from lakeport.errors import AccessDenied, AlreadyExists, InvalidInput, NotFound
from lakeport.metadata import MetadataDB
from lakeport.metadata.times import now
from lakeport.observe.log_shapes import RETENTION_DAYS, to_ms
from lakeport.observe.logs import LogStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LogStore]:
    db = MetadataDB(f"sqlite:///{tmp_path / 'logs.db'}")
    db.upgrade()
    yield LogStore(db, region="eu-west-1", account_id="123456789012")
    db.dispose()


def _ms(minutes_ago: float = 0) -> int:
    return to_ms(now() - timedelta(minutes=minutes_ago))


def test_groups_streams_and_their_shapes(store: LogStore) -> None:
    group = store.create_log_group("/app/web", retention_days=7)
    assert group.to_dict()["retentionInDays"] == 7
    with pytest.raises(AlreadyExists, match="/app/web"):
        store.create_log_group("/app/web")
    store.put_log_events("/app/web", "b", [{"timestamp": _ms(2), "message": "12345"}])
    store.put_log_events("/app/web", "a", [{"timestamp": _ms(1), "message": "héllo"}])
    store.put("/lakeport/jobs/j", "jr_1", "internal")

    groups, token = store.describe_log_groups()
    assert [g.name for g in groups] == ["/app/web", "/lakeport/jobs/j"]
    assert token is None
    shape = groups[0].to_dict()
    assert shape["logGroupName"] == "/app/web"
    assert shape["arn"] == "arn:aws:logs:eu-west-1:123456789012:log-group:/app/web:*"
    assert shape["storedBytes"] == 5 + 6
    assert isinstance(shape["creationTime"], int)
    assert [g.name for g in store.describe_log_groups("/lakeport/")[0]] == ["/lakeport/jobs/j"]
    page, token = store.describe_log_groups(limit=1)
    assert len(page) == 1
    assert token
    assert [g.name for g in store.describe_log_groups(limit=1, next_token=token)[0]] == ["/lakeport/jobs/j"]

    by_name = [s.name for s in store.describe_log_streams("/app/web")[0]]
    by_time = [s.name for s in store.describe_log_streams("/app/web", order_by="LastEventTime", descending=True)[0]]
    assert by_name == ["a", "b"]
    assert by_time == ["a", "b"]
    stream = store.describe_log_streams("/app/web", prefix="b")[0][0].to_dict()
    assert stream["logStreamName"] == "b"
    assert stream["storedBytes"] == 5
    assert stream["firstEventTimestamp"] == stream["lastEventTimestamp"]
    assert stream["arn"].endswith(":log-group:/app/web:log-stream:b")
    with pytest.raises(NotFound, match="/nope"):
        store.describe_log_streams("/nope")

    store.delete_log_group("/app/web")
    assert [g.name for g in store.describe_log_groups()[0]] == ["/lakeport/jobs/j"]


def test_retention_values_and_enforcement(store: LogStore) -> None:
    store.create_log_group("/r")
    with pytest.raises(InvalidInput) as caught:
        store.put_retention_policy("/r", 2)
    assert "/r" in caught.value.message
    assert "3653" in (caught.value.hint or "")
    with pytest.raises(NotFound):
        store.put_retention_policy("/missing", 1)
    # events 10 days old, as PutLogEvents accepts them (up to 14 days back), and a fresh one
    old = to_ms(now() - timedelta(days=10))
    store.put_log_events("/r", "s", [{"timestamp": old + i, "message": f"old {i}"} for i in range(3)])
    store.put_log_events("/r", "s", [{"timestamp": _ms(), "message": "new"}])
    assert store.put_retention_policy("/r", 7).retention_days == 7  # sweeps at once
    assert [e.message for e in store.events("/r")] == ["new"]
    assert store.describe_log_streams("/r")[0][0].stored_bytes == 3
    # past the retention: rejected as CloudWatch does
    answer = store.put_log_events(
        "/r", "s", [{"timestamp": old, "message": "late"}, {"timestamp": _ms(), "message": "ok"}]
    )
    assert answer["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 0}
    assert set(RETENTION_DAYS) >= {1, 7, 3653}


def test_retention_is_swept_by_writers_at_most_once_per_interval(store: LogStore) -> None:
    store.retention_interval = 3600
    store.put_log_events("/w", "s", [{"timestamp": to_ms(now() - timedelta(hours=30)), "message": "x"}])
    store._set_retention("/w", 1)  # set without the sweep put_retention_policy makes
    store.put("/w", "s", "now")  # this process looked at /w a moment ago: no sweep until the interval passes
    assert [e.message for e in store.events("/w")] == ["x", "now"]
    other = LogStore(store.db, retention_interval=3600)  # another process writing to /w sweeps on its first write
    other.put("/w", "s", "later")
    assert [e.message for e in store.events("/w")] == ["now", "later"]
    assert store.apply_retention() == 0


def test_get_log_events_pages_both_ways(store: LogStore) -> None:
    base = _ms(5)
    store.put_log_events("/g", "s", [{"timestamp": base + i, "message": f"m{i}"} for i in range(10)])
    store.put_log_events("/g", "other", [{"timestamp": base, "message": "elsewhere"}])
    tail = store.get_log_events("/g", "s", limit=4)  # no token, not from head: the newest, oldest first
    assert [e["message"] for e in tail["events"]] == ["m6", "m7", "m8", "m9"]
    assert set(tail["events"][0]) == {"timestamp", "message", "ingestionTime", "eventId"}
    before = store.get_log_events("/g", "s", limit=4, next_token=tail["nextBackwardToken"])
    assert [e["message"] for e in before["events"]] == ["m2", "m3", "m4", "m5"]
    head = store.get_log_events("/g", "s", limit=6, start_from_head=True)
    assert [e["message"] for e in head["events"]] == [f"m{i}" for i in range(6)]
    rest = store.get_log_events("/g", "s", limit=6, next_token=head["nextForwardToken"])
    assert [e["message"] for e in rest["events"]] == ["m6", "m7", "m8", "m9"]
    end = store.get_log_events("/g", "s", next_token=rest["nextForwardToken"])
    assert end["events"] == []
    assert end["nextForwardToken"] == rest["nextForwardToken"]
    ranged = store.get_log_events("/g", "s", start_time=base + 2, end_time=base + 4, start_from_head=True)
    assert [e["message"] for e in ranged["events"]] == ["m2", "m3"]
    with pytest.raises(InvalidInput, match="token"):
        store.get_log_events("/g", "s", next_token="nonsense")
    with pytest.raises(NotFound, match="stream nope"):
        store.get_log_events("/g", "nope")


def test_filter_log_events_filters_pages_and_streams(store: LogStore) -> None:
    base = _ms(5)
    store.put_log_events(
        "/f",
        "web-1",
        [{"timestamp": base + i, "message": f"GET /x status={500 if i % 3 == 0 else 200}"} for i in range(30)],
    )
    store.put_log_events("/f", "db-1", [{"timestamp": base + 1, "message": "status=500 slow query"}])
    store.put_log_events(
        "/f", "web-2", [{"timestamp": base + 2, "message": "x", "level": "ERROR", "fields": {"ms": 250}}]
    )
    everything = store.filter_log_events("/f")
    assert len(everything["events"]) == 32
    assert "nextToken" not in everything
    first = everything["events"][0]
    assert set(first) == {"logStreamName", "timestamp", "message", "ingestionTime", "eventId"}
    times = [e["timestamp"] for e in everything["events"]]
    assert times == sorted(times)  # time order across streams

    errors = store.filter_log_events("/f", filter_pattern='"status=500"')
    assert len(errors["events"]) == 11
    page = store.filter_log_events("/f", filter_pattern='"status=500"', limit=4)
    pages = [page]
    while "nextToken" in pages[-1]:
        pages.append(
            store.filter_log_events("/f", filter_pattern='"status=500"', limit=4, next_token=pages[-1]["nextToken"])
        )
    assert [e["eventId"] for p in pages for e in p["events"]] == [e["eventId"] for e in errors["events"]]

    assert len(store.filter_log_events("/f", stream_prefix="web-", filter_pattern='"status=500"')["events"]) == 10
    assert len(store.filter_log_events("/f", stream_names=["db-1"])["events"]) == 1
    assert store.filter_log_events("/f", filter_pattern="STATUS=500")["events"] == []  # case-sensitive
    slow = store.filter_log_events("/f", filter_pattern='{ $.level = "ERROR" && $.ms > 100 }')
    assert [e["logStreamName"] for e in slow["events"]] == ["web-2"]
    window = store.filter_log_events("/f", start_time=base + 10, end_time=base + 20, stream_names=["web-1"])
    assert len(window["events"]) == 10
    with pytest.raises(InvalidInput, match="cannot be combined"):
        store.filter_log_events("/f", stream_names=["a"], stream_prefix="b")


def test_put_log_events_checks_its_input(store: LogStore) -> None:
    with pytest.raises(InvalidInput, match="10001 events in one call"):
        store.put_log_events("/g", "s", [{"timestamp": _ms(), "message": "x"}] * 10_001)
    with pytest.raises(InvalidInput, match="timestamp"):
        store.put_log_events("/g", "s", [{"message": "x"}])
    with pytest.raises(InvalidInput, match="log group name"):
        store.put_log_events("bad name!", "s", [])
    answer = store.put_log_events("/g", "s", [{"timestamp": to_ms(now() + timedelta(hours=3)), "message": "x"}])
    assert answer == {"rejectedLogEventsInfo": {"tooNewLogEventStartIndex": 0}}


def test_follow_returns_what_arrives_after_a_mark(store: LogStore) -> None:
    store.put("/t", "s", "before")
    mark = store.last_event_id()
    store.put("/t", "s", "after ERROR", level="ERROR")
    store.put("/t", "s", "after ok")
    events, last = store.follow("/t", after_id=mark, filter_pattern="ERROR")
    assert [e.message for e in events] == ["after ERROR"]
    assert last >= events[-1].id
    assert store.follow("/t", after_id=last, filter_pattern="ERROR")[0] == []


def test_users_need_logs_permissions_but_services_write_unasked(local_lake: Lake) -> None:
    lake = local_lake
    lake.iam.create_user("reader")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:FilterLogEvents", "logs:DescribeLogStreams", "logs:GetLogEvents"],
                "Resource": "arn:aws:logs:*:*:log-group:/lakeport/jobs/*",
            }
        ],
    }
    lake.iam.put_user_policy("reader", "read-job-logs", policy)
    reader = lake.as_principal(lake.iam.resolve("reader"))
    reader.logs.put("/lakeport/jobs/j", "jr_1", "written by the service as the reader's run")  # unauthorized path
    logs = reader.cloudwatch_logs
    assert [e["message"] for e in logs.filter_log_events("/lakeport/jobs/j")["events"]] == [
        "written by the service as the reader's run"
    ]
    assert logs.get_log_events("/lakeport/jobs/j", "jr_1")["events"]
    with pytest.raises(AccessDenied, match="logs:DescribeLogGroups"):
        logs.describe_log_groups()
    with pytest.raises(AccessDenied, match="logs:DeleteLogGroup"):
        logs.delete_log_group("/lakeport/jobs/j")
    with pytest.raises(AccessDenied, match="logs:FilterLogEvents"):
        logs.filter_log_events("/lakeport/states/m")
    with pytest.raises(AccessDenied, match="logs:PutRetentionPolicy"):
        logs.put_retention_policy("/lakeport/jobs/j", 7)
    admin = lake.cloudwatch_logs
    assert admin.put_retention_policy("/lakeport/jobs/j", 7).retention_days == 7
    assert [g.name for g in admin.describe_log_groups()[0]] == ["/lakeport/jobs/j"]


def test_the_same_on_postgresql(postgres_db_url: str) -> None:
    """The main behaviours on a PostgreSQL metadata database (one migrated database for all of them)."""
    db = MetadataDB(postgres_db_url)
    db.upgrade()
    try:
        for check in (
            test_groups_streams_and_their_shapes,
            test_retention_values_and_enforcement,
            test_get_log_events_pages_both_ways,
            test_filter_log_events_filters_pages_and_streams,
        ):
            check(LogStore(db, region="eu-west-1", account_id="123456789012"))
    finally:
        db.dispose()


def test_messages_and_fields_round_trip_whatever_they_hold(store: LogStore) -> None:
    odd = 'emoji 🎵 "quoted" \\ back\nnewline'
    store.put("/u", "s", odd, level="WARN", nested=[1, {"a": None}])
    store.put("/u", "s", "with a \x00 NUL")  # stored row by row: SQLite's JSON functions stop at NUL
    store.put("/u", "s", "bad \udcff surrogate")  # not UTF-8: stored replaced, never refused
    events = store.events("/u")
    assert [e.message for e in events] == [odd, "with a \x00 NUL", "bad ? surrogate"]
    assert events[0].fields == {"nested": [1, {"a": None}]}
    assert events[0].level == "WARN"


def test_a_writer_recreates_a_stream_another_process_deleted(store: LogStore) -> None:
    store.put("/d", "s", "one")
    other = LogStore(store.db)  # another process
    other.delete_log_group("/d")
    store.put("/d", "s", "two")  # this store believed /d:s existed
    assert [e.message for e in store.events("/d")] == ["two"]
    assert store.describe_log_streams("/d")[0][0].stored_bytes == 3


def test_captured_lines_are_stored_as_the_same_events_as_put_many_would(store: LogStore) -> None:
    """put_lines (captured output's path: SQLite builds the rows) stores what put_many stores for the same lines:
    times to the microsecond, levels, messages (non-ASCII, a NUL, a lone surrogate), shared fields, byte counts."""
    base = time.time_ns() - 5_000_000_000
    lines = [
        (base + 1_234_567, "INFO", "plain"),
        (base + 2_000_999, "ERROR", "héllo ☃"),
        (base + 3_000_000, "INFO", ""),
        (base + 999_999_999, "INFO", 'tab\there, "quotes" and \\ backslash'),
    ]
    odd = [(base + 4_000_000, "INFO", "nul\x00inside"), (base + 5_000_000, "INFO", "lone \udc80 surrogate")]
    fields = {"run_id": "jr_1", "n": 3}
    for stream, batch in (("fast", lines), ("odd", odd)):
        store.put_lines("/cap", stream, batch, fields)
        store.put_many("/cap", f"{stream}-ref", [(_from_ns(ns), level, m, fields) for ns, level, m in batch])
        got = [(e.timestamp, e.level, e.message, dict(e.fields)) for e in store.events("/cap", stream)]
        want = [(e.timestamp, e.level, e.message, dict(e.fields)) for e in store.events("/cap", f"{stream}-ref")]
        assert got == want
        assert got[0][0] == datetime.fromtimestamp(batch[0][0] // 1000 / 1_000_000, UTC)
        streams = {s.name: s for s in store.describe_log_streams("/cap")[0]}
        assert streams[stream].stored_bytes == streams[f"{stream}-ref"].stored_bytes
        assert (
            streams[stream].to_dict()["firstEventTimestamp"]
            == streams[f"{stream}-ref"].to_dict()["firstEventTimestamp"]
        )
        assert (
            streams[stream].to_dict()["lastEventTimestamp"] == streams[f"{stream}-ref"].to_dict()["lastEventTimestamp"]
        )
    assert [e.message for e in store.events("/cap", "fast")][1] == "héllo ☃"
    assert store.describe_log_streams("/cap", prefix="fast")[0][0].stored_bytes == sum(
        len(m.encode()) for _, _, m in lines
    )


def _from_ns(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // 1000 / 1_000_000, UTC)
