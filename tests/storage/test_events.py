"""Object events: every create/remove recorded once, as S3 event records, with consumer cursors."""

from __future__ import annotations

import re

from lakeport import Lake
from lakeport.storage.events import CREATED_COPY, CREATED_PUT, REMOVED_DELETE


def test_put_copy_delete_emit_s3_event_records(lake: Lake) -> None:
    bucket = lake.settings.storage.default_bucket
    put = lake.storage.put_object(bucket, "staging/a.csv", b"x,y\n1,2\n")
    lake.storage.copy_object(bucket, "staging/a.csv", bucket, "staging/b.csv")
    lake.storage.delete_object(bucket, "staging/a.csv")

    events = lake.events.read()
    assert [(e.event_name, e.key) for e in events] == [
        (CREATED_PUT, "staging/a.csv"),
        (CREATED_COPY, "staging/b.csv"),
        (REMOVED_DELETE, "staging/a.csv"),
    ]
    record = events[0].to_record()
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"] == {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"}
    assert record["s3"]["object"]["key"] == "staging/a.csv"
    assert record["s3"]["object"]["size"] == 8
    assert record["s3"]["object"]["eTag"] == put.etag
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["eventTime"])
    # Removal records carry no size or ETag, as in S3.
    assert "size" not in events[2].to_record()["s3"]["object"]
    # Sequencers grow with time on the same key.
    seqs = [e.sequencer for e in events]
    assert seqs == sorted(seqs)
    assert all(len(s) == 16 for s in seqs)


def test_same_object_reported_twice_is_recorded_once(lake: Lake) -> None:
    bucket = lake.settings.storage.default_bucket
    info = lake.storage.put_object(bucket, "staging/a.csv", b"hello")
    # The watcher (or a second scan) reports the very same object again.
    again = lake.events.record_created(bucket, "staging/a.csv", etag=info.etag, size=info.size, source="watcher")
    assert again is None
    assert lake.watcher().scan(bucket).events == []
    assert len(lake.events.read()) == 1


def test_changed_content_and_recreation_are_new_events(lake: Lake) -> None:
    bucket = lake.settings.storage.default_bucket
    lake.storage.put_object(bucket, "k.txt", b"one")
    lake.storage.put_object(bucket, "k.txt", b"one")  # same bytes: deduplicated by ETag
    lake.storage.put_object(bucket, "k.txt", b"two")
    lake.storage.delete_object(bucket, "k.txt")
    lake.storage.delete_object(bucket, "k.txt")  # already gone: nothing to announce
    lake.storage.put_object(bucket, "k.txt", b"one")  # created again after removal
    names = [e.event_name for e in lake.events.read()]
    assert names == [CREATED_PUT, CREATED_PUT, REMOVED_DELETE, CREATED_PUT]


def test_consumer_cursor_is_at_least_once(lake: Lake) -> None:
    bucket = lake.settings.storage.default_bucket
    for i in range(5):
        lake.storage.put_object(bucket, f"staging/{i}.csv", b"%d" % i)
    first = lake.events.poll("trigger-a", limit=3)
    assert [e.key for e in first] == ["staging/0.csv", "staging/1.csv", "staging/2.csv"]
    # Not acknowledged: the consumer sees the same events again.
    assert lake.events.poll("trigger-a", limit=3) == first
    lake.events.ack("trigger-a", first[-1].id)
    rest = lake.events.poll("trigger-a")
    assert [e.key for e in rest] == ["staging/3.csv", "staging/4.csv"]
    lake.events.ack("trigger-a", first[0].id)  # acknowledging an older id never moves the cursor back
    assert lake.events.poll("trigger-a") == rest
    # Consumers are independent.
    assert len(lake.events.poll("trigger-b")) == 5


def test_scan_finds_objects_written_and_removed_by_another_client(s3_lake: Lake) -> None:
    import boto3

    bucket = s3_lake.settings.storage.default_bucket
    st = s3_lake.settings.storage
    other = boto3.client(
        "s3",
        endpoint_url=st.endpoint_url,
        region_name=st.region,
        aws_access_key_id=st.access_key_id,
        aws_secret_access_key=st.secret_access_key,
    )
    s3_lake.storage.put_object(bucket, "staging/mine.csv", b"1")
    other.put_object(Bucket=bucket, Key="staging/theirs.csv", Body=b"a,b\n")
    result = s3_lake.watcher().scan(bucket)
    assert [(e.event_name, e.key, e.source) for e in result.events] == [(CREATED_PUT, "staging/theirs.csv", "scan")]
    assert result.events[0].etag == other.head_object(Bucket=bucket, Key="staging/theirs.csv")["ETag"].strip('"')
    other.delete_object(Bucket=bucket, Key="staging/mine.csv")
    removed = s3_lake.watcher().scan(bucket).events
    assert [(e.event_name, e.key) for e in removed] == [(REMOVED_DELETE, "staging/mine.csv")]
    assert s3_lake.watcher().scan(bucket).events == []
