"""The audit trail: every non-administrator decision, buffered, flushed in batches, never lost at close."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lakeport import Lake
from lakeport.errors import AccessDenied
from lakeport.iam import Principal
from lakeport.iam.audit import AuditEvent
from lakeport.iam.iam import request_id
from lakeport.iam.schema import iam_audit_events
from lakeport.metadata.times import now

READ = {"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject",
                                                "Resource": "arn:aws:s3:::lakeport/*"}]}  # fmt: skip


def _stored(lake: Lake) -> int:
    with lake.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(iam_audit_events)).scalar_one())


@pytest.fixture
def ann(local_lake: Lake) -> Principal:
    local_lake.iam.create_user("ann")
    local_lake.iam.create_policy("read", READ)
    local_lake.iam.attach_user_policy("ann", "read")
    return local_lake.iam.resolve("ann")


def test_allowed_and_denied_decisions_are_recorded_with_their_statement(local_lake: Lake, ann: Principal) -> None:
    iam = local_lake.iam
    token = request_id.set("req-1")
    try:
        iam.authorize(ann, "s3:GetObject", "arn:aws:s3:::lakeport/a", {"aws:SourceIp": "192.0.2.7"})
    finally:
        request_id.reset(token)
    with pytest.raises(AccessDenied):
        iam.authorize(ann, "s3:PutObject", "arn:aws:s3:::lakeport/b")
    local_lake.storage.list_buckets()  # the administrator: not recorded by default
    denied, allowed = iam.audit.events()  # type: ignore[union-attr]
    assert (allowed.principal, allowed.action, allowed.resource, allowed.decision) == (
        ann.arn, "s3:GetObject", "arn:aws:s3:::lakeport/a", "Allow",
    )  # fmt: skip
    assert (allowed.policy, allowed.statement, allowed.source_ip, allowed.request_id) == (
        "arn:aws:iam::000000000000:policy/read", "Read", "192.0.2.7", "req-1",
    )  # fmt: skip
    assert (denied.decision, denied.policy, denied.statement, denied.source_ip) == ("ImplicitDeny", None, None, None)
    assert denied.request_id
    assert denied.request_id != allowed.request_id


def test_events_are_buffered_then_flushed_by_the_timer(local_lake: Lake, ann: Principal) -> None:
    trail = local_lake.iam.audit
    assert trail is not None
    local_lake.iam.authorize(ann, "s3:GetObject", "arn:aws:s3:::lakeport/a")
    assert trail.pending() == 1
    assert _stored(local_lake) == 0
    deadline = time.monotonic() + 5
    while _stored(local_lake) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _stored(local_lake) == 1
    assert trail.pending() == 0


def test_a_full_batch_is_written_without_waiting(local_lake: Lake, ann: Principal) -> None:
    trail = local_lake.iam.audit
    assert trail is not None
    trail.batch, trail.interval = 50, 60.0
    for i in range(120):
        local_lake.iam.authorize(ann, "s3:GetObject", f"arn:aws:s3:::lakeport/{i}")
    deadline = time.monotonic() + 5
    while _stored(local_lake) < 100 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _stored(local_lake) >= 100


def test_nothing_is_lost_at_close(tmp_path: Path) -> None:
    lake = Lake.init(tmp_path / "lake")
    lake.iam.create_user("ann")
    ann = lake.iam.resolve("ann")
    assert lake.iam.audit is not None
    lake.iam.audit.interval = 3600.0
    for i in range(1234):
        with pytest.raises(AccessDenied):
            lake.as_principal(ann).iam.authorize(ann, "s3:GetObject", f"arn:aws:s3:::lakeport/{i}")
    lake.close()
    with Lake.open(tmp_path / "lake") as again:
        assert _stored(again) == 1234


def test_the_administrator_is_audited_only_on_request(tmp_path: Path) -> None:
    with Lake.init(tmp_path / "lake", values={"iam.audit_admin": True}) as lake:
        lake.storage.list_buckets()
        events = lake.iam.audit.events(principal="admin", action="s3:ListAllMyBuckets")  # type: ignore[union-attr]
    assert [(e.action, e.decision, e.policy) for e in events] == [
        ("s3:ListAllMyBuckets", "Allow", "lake administrator")
    ]


def test_filters_and_retention(local_lake: Lake, ann: Principal) -> None:
    iam = local_lake.iam
    trail = iam.audit
    assert trail is not None
    trail.retention_days = 0  # keep everything, for now
    iam.authorize(ann, "s3:GetObject", "arn:aws:s3:::lakeport/a")
    with pytest.raises(AccessDenied):
        iam.authorize(ann, "s3:PutObject", "arn:aws:s3:::lakeport/a")
    old = AuditEvent(now() - timedelta(days=400), ann.arn, "s3:GetObject", "arn:aws:s3:::lakeport/old", "Allow",
                     None, None, None, "r0")  # fmt: skip
    trail.record(old)
    assert len(trail.events(principal="ann")) == 3
    assert len(trail.events(principal=ann.arn, decision="Deny")) == 1
    assert [e.action for e in trail.events(action="s3:PutObject")] == ["s3:PutObject"]
    assert len(trail.events(since=now() - timedelta(hours=1))) == 2
    assert len(trail.events(limit=1)) == 1
    assert trail.events(principal="bob") == []
    trail.retention_days = 90
    assert trail.prune() == 1
    assert len(trail.events()) == 2


def test_events_of_a_lake_dropped_before_its_flush_are_still_written(tmp_path: Path) -> None:
    """A caller may drop its lake the moment a call is denied (the CLI does): the buffered event must not go with
    it; the flusher (or the process's exit) still writes it."""
    import gc

    root = tmp_path / "lake"
    Lake.init(root).close()
    lake = Lake.open(root)
    ann = Principal(arn="arn:aws:iam::000000000000:user/ann", name="ann")
    with pytest.raises(AccessDenied):
        lake.iam.authorize(ann, "iam:ListUsers", "*")
    del lake
    gc.collect()
    with Lake.open(root) as reader:
        deadline = time.monotonic() + 5
        while not reader.iam.lookup_events(principal="ann") and time.monotonic() < deadline:
            time.sleep(0.05)
        events = reader.iam.lookup_events(principal="ann")
    assert [(e.action, e.decision) for e in events] == [("iam:ListUsers", "ImplicitDeny")]
