"""Loading any dataset: a folder, a zip or one file of CSV, TSV, JSON, JSON Lines or Parquet, checked before upload."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import duckdb
import pytest

from lakeport import Lake
from lakeport.datasets.loader import SAMPLE_BYTES, load_folder
from lakeport.errors import InvalidInput, InvalidKey, NotFound
from tests.support.lakes import assert_nothing_uploaded, landed


def write_parquet(path: Path, query: str = "SELECT range AS id, 'Tiësto #' || range AS name FROM range(50)") -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.sql(f"COPY ({query}) TO '{path}' (FORMAT parquet)")
    return path.read_bytes()


def write_dataset(root: Path) -> dict[str, bytes]:
    """One file of every accepted kind, some in sub-folders; returns relative path → bytes."""
    files: dict[str, bytes] = {
        "albums.csv": 'id,name,label\n1,"Black Sands, Vol. 1",Los Años Luz Discos\n2,"Say ""Hi""",\n'.encode(),
        "genres.tsv": b"artist_id\tgenre\n002nyxOMwdc9EgNEo7ETcF\tcanadian hip hop\n",
        "meta/dataset.json": json.dumps({"name": "spotify", "tables": ["albums", "tracks"]}, indent=2).encode(),
        "events/2023/12/plays.jsonl": b'{"track": "a", "ms": 1}\n{"track": "b", "ms": 2}\n',
        "events/2023/12/more.ndjson": b'{"track": "c"}\r\n\r\n{"track": "d"}',
        "spark/part-0000.json": b'{"id": 1}\n{"id": 2}\n',  # JSON Lines in a .json file, as Spark writes it
        "logs/plays.csv.gz": gzip.compress(b"id,ms\n1,100\n2,200\n"),
        "logs/raw.json.gz": gzip.compress(b'[{"id": 1}, {"id": 2}]'),
        "_raw/first.csv": b"id\n1\n",  # a folder starting with "_" is kept; only marker files are skipped
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    files["warehouse/tracks.parquet"] = write_parquet(root / "warehouse" / "tracks.parquet")
    return files


def test_a_nested_folder_lands_with_its_sub_paths(lake: Lake, tmp_path: Path) -> None:
    root = tmp_path / "mydata"
    files = write_dataset(root)
    (root / ".DS_Store").write_bytes(b"junk")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / "spark" / "_SUCCESS").write_bytes(b"")
    (root / "spark" / ".part-0000.json.crc").write_bytes(b"crc")
    (root / "Thumbs.db").write_bytes(b"junk")

    result = load_folder(lake.storage, root, "staging/mydata/")
    bucket = lake.storage.default_bucket
    assert result.to == f"s3://{bucket}/staging/mydata/"
    assert landed(lake) == {f"staging/mydata/{rel}": data for rel, data in files.items()}
    assert sorted(f.name for f in result.files) == sorted(files)
    assert len(lake.events.read()) == len(files)
    notes = " ".join(result.notes)
    for junk in (".DS_Store", ".git/", "Thumbs.db", ".part-0000.json.crc", "_SUCCESS"):
        assert junk in notes


def test_other_kinds_of_file_are_refused_not_skipped(local_lake: Lake, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "part-0.csv").write_text("a\n1\n")
    (tmp_path / "out" / "README.md").write_text("# about\n")
    (tmp_path / "out" / "data.xlsx").write_bytes(b"PK\x03\x04")
    with pytest.raises(InvalidInput, match=r"does not load .*README\.md, .*data\.xlsx: not CSV, TSV, JSON or Parquet"):
        load_folder(local_lake.storage, tmp_path / "out", "staging/out/")
    assert_nothing_uploaded(local_lake)


def test_a_zip_and_a_single_file(lake: Lake, tmp_path: Path) -> None:
    files = write_dataset(tmp_path / "src")
    archive = tmp_path / "mydata.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for rel, data in files.items():
            zf.writestr(f"mydata/{rel}", data)
        zf.writestr("__MACOSX/mydata/._albums.csv", b"\x00\x05")
    result = load_folder(lake.storage, archive, "staging/zipped")
    assert landed(lake, "staging/zipped/") == {f"staging/zipped/{rel}": data for rel, data in files.items()}
    assert any("one folder, mydata/" in n for n in result.notes)

    single = load_folder(lake.storage, tmp_path / "src" / "albums.csv", f"s3://{lake.storage.default_bucket}/one/")
    assert [f.uri for f in single.files] == [f"s3://{lake.storage.default_bucket}/one/albums.csv"]
    assert landed(lake, "one/") == {"one/albums.csv": files["albums.csv"]}


def test_large_files_are_checked_on_a_sample(local_lake: Lake, tmp_path: Path) -> None:
    root = tmp_path / "big"
    root.mkdir()
    row = '1,"a, quoted ""field""\nover two lines",Tiësto\n'
    big_csv = "id,text,artist\n" + row * (SAMPLE_BYTES // len(row) + 500)
    (root / "big.csv").write_text(big_csv)
    records = "".join(json.dumps({"id": i, "name": "Ночь"}) + "\n" for i in range(40_000))
    (root / "big.json").write_text(records)  # JSON Lines, longer than the sample
    (root / "doc.json").write_text(json.dumps([{"id": i, "tags": ["x"] * 5} for i in range(40_000)], indent=1))
    (root / "minified.json").write_text(json.dumps([{"id": i, "v": "é" * 3} for i in range(60_000)]))
    for name in ("big.csv", "big.json", "doc.json", "minified.json"):
        assert (root / name).stat().st_size > SAMPLE_BYTES
    load_folder(local_lake.storage, root, "staging/big/")
    assert len(landed(local_lake)) == 4


def _bad(tmp_path: Path, name: str, data: bytes) -> Path:
    root = tmp_path / "in"
    (root / "good").mkdir(parents=True)
    (root / "good" / "ok.csv").write_bytes(b"a,b\n1,2\n")  # a good file that must not land either
    (root / name).write_bytes(data)
    return root


BAD: dict[str, tuple[str, bytes, str]] = {
    "latin-1 csv": (
        "labels.csv",
        "id,label\n1,Mountain Music\n2,Los Años Luz\n".encode("latin-1"),
        "labels.csv line 3, column 8: not valid UTF-8 (byte 0xf1)",
    ),
    "utf-16 csv": ("wide.csv", "id\n1\n".encode("utf-16"), "wide.csv line 1, column 1: the file is UTF-16"),
    "ragged row": (
        "albums.csv",
        b'id,name,label\n1,"A, B",x\n2,too,many,fields\n',
        "albums.csv line 3, column 4: 4 fields, but the header has 3 columns",
    ),
    "short row": (
        "albums.tsv",
        b"id\tname\tlabel\n1\tA\tx\n\n2\tB\n",
        "albums.tsv line 4, column 3: the row ends after 2 field(s), but the header has 3 columns",
    ),
    "duplicate header": (
        "dupes.csv",
        b"id,name,Name\n1,a,b\n",
        "dupes.csv line 1, column 3: column name 'Name' repeats column 2",
    ),
    "empty header name": (
        "blank.csv",
        b"id,,name\n1,2,3\n",
        "blank.csv line 1, column 2: the header has an empty column",
    ),
    "empty csv": ("empty.csv", b"", "empty.csv is empty: it has no header row"),
    "bad json line": (
        "plays.jsonl",
        b'{"a": 1}\n{"a": 2}\n{"a": 3,}\n',
        "plays.jsonl line 3, column 9: invalid JSON (Expecting property name enclosed in double quotes)",
    ),
    "json line not an object": ("ids.ndjson", b'{"a": 1}\n[1, 2]\n', "ids.ndjson line 2: a JSON array, not an object"),
    "bad json document": (
        "doc.json",
        b'{\n  "name": "x",\n  "tables": [1, 2,]\n}\n',
        "doc.json line 3, column 19: invalid JSON (Expecting value)",
    ),
    "json scalar": ("n.json", b"42\n", "n.json line 1: the document is a JSON number or null, not an array or object"),
    "bad json line in .json": (
        "part-0.json",
        b'{"id": 1}\n{"id": 2\n',
        "part-0.json line 2, column 9: invalid JSON (Expecting ',' delimiter)",
    ),
    "bad gzip": ("plays.csv.gz", b"id,ms\n1,2\n", "plays.csv.gz is not a valid gzip file"),
    "truncated gzip": ("plays.json.gz", gzip.compress(b'[{"id": 1}]' * 50)[:30], "plays.json.gz is not a valid gzip"),
    "not parquet": ("t.parquet", b"id,name\n1,a\n", "t.parquet is not a Parquet file: it does not start with"),
    "unknown type": ("notes.txt", b"hello\n", "notes.txt: not CSV, TSV, JSON or Parquet"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_file_is_refused_naming_file_line_and_column(local_lake: Lake, tmp_path: Path, case: str) -> None:
    name, data, expected = BAD[case]
    root = _bad(tmp_path, name, data)
    with pytest.raises(InvalidInput) as caught:
        load_folder(local_lake.storage, root, "staging/mydata/")
    assert expected in caught.value.message
    assert str(root / name) in caught.value.message
    assert "\n" not in caught.value.one_line()
    assert_nothing_uploaded(local_lake)


def test_a_truncated_parquet_file_is_refused(lake: Lake, tmp_path: Path) -> None:
    root = tmp_path / "in"
    whole = write_parquet(root / "whole.parquet")
    (root / "whole.parquet").unlink()
    (root / "cut.parquet").write_bytes(whole[: len(whole) // 2])  # an interrupted copy
    with pytest.raises(InvalidInput, match=r"cut\.parquet is a truncated Parquet file"):
        load_folder(lake.storage, root, "staging/mydata/")
    # Cut in the middle but with the last bytes put back: the footer length points at garbage.
    (root / "cut.parquet").write_bytes(whole[: len(whole) // 2] + whole[-8:])
    with pytest.raises(InvalidInput, match=r"cut\.parquet is a damaged Parquet file"):
        load_folder(lake.storage, root, "staging/mydata/")
    assert_nothing_uploaded(lake)


def test_empty_and_junk_only_folders_are_refused(local_lake: Lake, tmp_path: Path) -> None:
    root = tmp_path / "empty"
    (root / "sub").mkdir(parents=True)
    with pytest.raises(InvalidInput, match="empty is empty: there is nothing to load"):
        load_folder(local_lake.storage, root, "staging/x/")
    (root / "sub" / ".DS_Store").write_bytes(b"junk")
    (root / "__MACOSX").mkdir()
    (root / "__MACOSX" / "a.csv").write_text("a\n1\n")
    with pytest.raises(InvalidInput, match="has only hidden, OS or marker files"):
        load_folder(local_lake.storage, root, "staging/x/")
    with pytest.raises(NotFound, match="does not exist"):
        load_folder(local_lake.storage, tmp_path / "missing", "staging/x/")
    assert_nothing_uploaded(local_lake)


def test_zip_slip_and_corrupt_zips_are_refused(local_lake: Lake, tmp_path: Path) -> None:
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.csv", "a\n1\n")
        zf.writestr("sub/../../../escape.csv", "a\n1\n")
    with pytest.raises(InvalidInput, match=r"data\.zip: member 'sub/\.\./\.\./\.\./escape\.csv' would unpack outside"):
        load_folder(local_lake.storage, archive, "staging/x/")
    archive.write_bytes(b"this is not a zip at all")
    with pytest.raises(InvalidInput, match=r"data\.zip is not a readable zip file"):
        load_folder(local_lake.storage, archive, "staging/x/")
    assert_nothing_uploaded(local_lake)


def test_a_file_name_that_cannot_be_a_key_is_refused_before_upload(local_lake: Lake, tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    (root / "a.csv").write_text("a\n1\n")
    (root / "tab\there.csv").write_text("a\n1\n")
    with pytest.raises(InvalidKey, match="control character"):
        load_folder(local_lake.storage, root, "staging/x/")
    assert_nothing_uploaded(local_lake)
