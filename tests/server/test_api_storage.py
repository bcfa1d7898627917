"""``/api/v1/storage`` over a real lake: upload, list with prefixes, head, download, preview, delete; denied."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from lakeport import Lake
from lakeport.server import create_app
from tests.server.test_api import _allow, _user

BUCKET = "lakeport"
OBJECTS = f"/api/v1/storage/buckets/{BUCKET}/objects"


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    lake = Lake.init(tmp_path_factory.mktemp("storage") / "lake")
    yield lake
    lake.close()


@pytest.fixture(scope="module")
def client(lake: Lake) -> TestClient:
    return TestClient(create_app(lake))


@pytest.fixture(scope="module")
def ann(lake: Lake) -> tuple[str, str]:
    return _user(lake, "ann", _allow("s3:*"))


def test_upload_list_head_download_delete(client: TestClient, lake: Lake, ann: tuple[str, str]) -> None:
    buckets = client.get("/api/v1/storage/buckets", auth=ann).json()["Buckets"]
    assert BUCKET in [b["Name"] for b in buckets]
    body = b"id,name\n1,alpha\n2,beta\n"
    put = client.put(
        OBJECTS,
        params={"key": "staging/people/part-0.csv"},
        content=body,
        headers={"content-type": "text/csv"},
        auth=ann,
    )
    assert put.status_code == 200, put.text
    assert put.json()["Size"] == len(body)
    client.put(OBJECTS, params={"key": "staging/top.txt"}, content=b"hello", auth=ann)

    listing = client.get(OBJECTS, params={"prefix": "staging/", "delimiter": "/"}, auth=ann).json()
    assert [p["Prefix"] for p in listing["CommonPrefixes"]] == ["staging/people/"]
    assert [o["Key"] for o in listing["Contents"]] == ["staging/top.txt"]
    first = client.get(OBJECTS, params={"prefix": "staging/", "max_keys": 1}, auth=ann).json()
    assert first["IsTruncated"]
    assert first["NextContinuationToken"]

    head = client.get(f"{OBJECTS}/head", params={"key": "staging/people/part-0.csv"}, auth=ann).json()
    assert head["ContentType"].startswith("text/csv")
    download = client.get(f"{OBJECTS}/download", params={"key": "staging/people/part-0.csv"}, auth=ann)
    assert download.status_code == 200
    assert download.content == body
    assert download.headers["content-type"].startswith("text/csv")
    assert "part-0.csv" in download.headers["content-disposition"]

    deleted = client.delete(OBJECTS, params={"key": "staging/top.txt"}, auth=ann).json()
    assert deleted["Deleted"] is True
    gone = client.get(f"{OBJECTS}/head", params={"key": "staging/top.txt"}, auth=ann)
    assert gone.status_code == 404
    assert set(gone.json()["error"]) == {"code", "message", "hint", "type", "retryable"}


def _parquet_bytes() -> bytes:
    table = pa.table({"id": [1, 2, 3], "when": pa.array([None, None, None], pa.timestamp("us")), "x": [0.5, 1.5, 2.5]})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def test_preview_of_csv_json_and_parquet(client: TestClient, lake: Lake, ann: tuple[str, str]) -> None:
    lake.storage.put_object(BUCKET, "p/a.csv", b"id;name\n1;alpha\n2;beta\n3;gamma\n")
    lake.storage.put_object(BUCKET, "p/b.jsonl", b'{"id": 1, "tags": ["x"]}\n{"id": 2, "extra": true}\n')
    lake.storage.put_object(BUCKET, "p/c.parquet", _parquet_bytes())
    lake.storage.put_object(BUCKET, "p/d.bin", b"\x00\x01")

    csv = client.get(f"{OBJECTS}/preview", params={"key": "p/a.csv", "limit": 2}, auth=ann).json()
    assert [c["Name"] for c in csv["columns"]] == ["id", "name"]
    assert csv["rows"] == [["1", "alpha"], ["2", "beta"]]
    assert csv["truncated"] is True

    lines = client.get(f"{OBJECTS}/preview", params={"key": "p/b.jsonl"}, auth=ann).json()
    assert [c["Name"] for c in lines["columns"]] == ["id", "tags", "extra"]
    assert lines["rows"] == [[1, ["x"], None], [2, None, True]]

    parquet = client.get(f"{OBJECTS}/preview", params={"key": "p/c.parquet", "limit": 2}, auth=ann).json()
    assert parquet["Format"] == "parquet"
    assert [c["Name"] for c in parquet["columns"]] == ["id", "when", "x"]
    assert parquet["rows"] == [[1, None, 0.5], [2, None, 1.5]]
    assert parquet["truncated"] is True

    lake.storage.put_object(BUCKET, "p/e.csv.gz", gzip.compress(b"a,b\n1,2\n"))
    zipped = client.get(f"{OBJECTS}/preview", params={"key": "p/e.csv.gz"}, auth=ann).json()
    assert zipped["rows"] == [["1", "2"]]

    unknown = client.get(f"{OBJECTS}/preview", params={"key": "p/d.bin"}, auth=ann)
    assert unknown.status_code == 400
    assert "format" in unknown.json()["error"]["hint"]


def test_preview_of_a_csv_with_old_mac_line_ends_and_of_one_with_a_huge_field(
    client: TestClient, lake: Lake, ann: tuple[str, str]
) -> None:
    """Found by the OpenAPI fuzz: bare carriage returns and a field over the csv module's default limit (128 KiB)
    were 500s."""
    lake.storage.put_object(BUCKET, "p/mac.csv", b"id,name\r1,alpha\r2,beta\r")
    mac = client.get(f"{OBJECTS}/preview", params={"key": "p/mac.csv"}, auth=ann)
    assert mac.status_code == 200, mac.text
    assert [c["Name"] for c in mac.json()["columns"]] == ["id", "name"]
    assert mac.json()["rows"] == [["1", "alpha"], ["2", "beta"]]

    lake.storage.put_object(BUCKET, "p/huge.csv", b"id,blob\n1,ok\n2," + b"x" * 200_000 + b"\n")
    huge = client.get(f"{OBJECTS}/preview", params={"key": "p/huge.csv"}, auth=ann)
    assert huge.status_code == 200, huge.text[:300]  # whatever csv's process-wide field limit was set to before
    assert [len(cell) for _, cell in huge.json()["rows"]] == [2, 200_000]


def test_a_user_who_may_only_list_cannot_upload_or_read(client: TestClient, lake: Lake) -> None:
    bob = _user(lake, "bob", _allow("s3:ListBucket", "s3:ListAllMyBuckets"))
    denied = client.put(OBJECTS, params={"key": "staging/bob.csv"}, content=b"a\n1\n", auth=bob)
    assert denied.status_code == 403
    assert "s3:PutObject" in denied.json()["error"]["message"]
    assert not lake.storage.object_exists(BUCKET, "staging/bob.csv")  # nothing changed
    lake.storage.put_object(BUCKET, "staging/secret.csv", b"a\n1\n")
    preview = client.get(f"{OBJECTS}/preview", params={"key": "staging/secret.csv"}, auth=bob)
    assert preview.status_code == 403
    assert "s3:GetObject" in preview.json()["error"]["message"]
    assert client.get(OBJECTS, auth=bob).status_code == 200


def test_upload_of_a_larger_file_streams_to_the_store(client: TestClient, ann: tuple[str, str], tmp_path: Path) -> None:
    rows = "".join(json.dumps({"n": i, "pad": "x" * 100}) + "\n" for i in range(20_000))  # about 2.4 MB
    put = client.put(OBJECTS, params={"key": "big/rows.json"}, content=rows.encode(), auth=ann)
    assert put.json()["Size"] == len(rows)
    preview = client.get(f"{OBJECTS}/preview", params={"key": "big/rows.json", "limit": 3}, auth=ann).json()
    assert [r[0] for r in preview["rows"]] == [0, 1, 2]
    assert preview["truncated"] is True
