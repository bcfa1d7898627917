"""JSON lines and JSON arrays: layout, truncation, nested types, merging and warnings, per the documented rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lakeport.crawler.json_format import sniff_json
from lakeport.errors import InvalidInput

TRACKS = [
    {"id": "4iV5W9uYEdYUVa79Axb7Rh", "track_popularity": 57, "explicit": False},
    {"id": "1301WleyT98MSxVHPZCA6M", "track_popularity": 0, "explicit": True},
    {"id": "0DiWol3AO6WpXZgp0goxAV", "track_popularity": 66, "explicit": False},
]
TRACK_COLUMNS = [("id", "string"), ("track_popularity", "bigint"), ("explicit", "boolean")]


def _lines(records: list[Any]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


# --- layouts --------------------------------------------------------------------------------------------


def test_json_lines() -> None:
    shape = sniff_json(_lines(TRACKS), truncated=False)
    assert shape.layout == "lines"
    assert shape.columns == TRACK_COLUMNS
    assert shape.records_sampled == 3
    assert shape.warnings == []


def test_json_array() -> None:
    shape = sniff_json(json.dumps(TRACKS, indent=2), truncated=False)
    assert shape.layout == "array"
    assert shape.columns == TRACK_COLUMNS
    assert shape.records_sampled == 3
    assert shape.warnings == []


def test_empty_array_has_no_records() -> None:
    with pytest.raises(InvalidInput, match="no JSON records"):
        sniff_json("[ ]", truncated=False)


def test_bom_and_leading_whitespace(tmp_path: Path) -> None:
    path = tmp_path / "tracks.json"
    path.write_text("\n\n  " + _lines(TRACKS), encoding="utf-8-sig")
    text = path.read_bytes().decode("utf-8", errors="replace")
    assert text.startswith("\ufeff")
    shape = sniff_json(text, truncated=False)
    assert shape.columns == TRACK_COLUMNS
    assert shape.records_sampled == 3
    shape = sniff_json("\ufeff " + json.dumps(TRACKS), truncated=False)
    assert shape.layout == "array"


def test_crlf_lines() -> None:
    shape = sniff_json(_lines(TRACKS).replace("\n", "\r\n"), truncated=False)
    assert shape.records_sampled == 3
    assert shape.warnings == []


def test_pretty_printed_single_object() -> None:
    text = json.dumps({"id": 1, "album": {"name": "Midnights", "tracks": [{"n": 1}, {"n": 2}]}}, indent=4)
    shape = sniff_json(text, truncated=False)
    assert shape.layout == "lines"
    assert shape.records_sampled == 1
    assert shape.columns == [("id", "bigint"), ("album", "struct<name:string,tracks:array<struct<n:bigint>>>")]
    assert shape.warnings == []


def test_concatenated_pretty_printed_objects() -> None:
    text = "\n".join(json.dumps(r, indent=2) for r in TRACKS)
    shape = sniff_json(text, truncated=False)
    assert shape.layout == "lines"
    assert shape.records_sampled == 3
    assert shape.columns == TRACK_COLUMNS


def test_objects_on_one_line_without_separators() -> None:
    text = "".join(json.dumps(r) for r in TRACKS)
    shape = sniff_json(text, truncated=False)
    assert shape.records_sampled == 3
    assert shape.columns == TRACK_COLUMNS


# --- truncation -----------------------------------------------------------------------------------------


def test_truncated_lines_drop_the_cut_line() -> None:
    whole = _lines(TRACKS)
    cut = whole[: whole.rindex('"explicit"')]  # the third object stops in the middle
    shape = sniff_json(cut, truncated=True)
    assert shape.records_sampled == 2
    assert shape.warnings == []
    assert shape.columns == TRACK_COLUMNS


def test_truncated_lines_ending_with_a_line_break_lose_nothing() -> None:
    shape = sniff_json(_lines(TRACKS), truncated=True)
    assert shape.records_sampled == 3


def test_a_cut_line_in_an_untruncated_sample_is_a_warning() -> None:
    text = _lines(TRACKS) + '{"id": "x", "track_pop'
    shape = sniff_json(text, truncated=False)
    assert shape.records_sampled == 3
    assert len(shape.warnings) == 1
    assert shape.warnings[0].startswith("line 4: invalid JSON (")


def test_truncated_array_keeps_the_complete_objects() -> None:
    text = json.dumps(TRACKS)
    cut = text[: text.rindex("track_popularity")]
    shape = sniff_json(cut, truncated=True)
    assert shape.layout == "array"
    assert shape.records_sampled == 2
    assert shape.warnings == []
    assert shape.columns == TRACK_COLUMNS


def test_truncated_array_cut_right_after_an_object() -> None:
    text = json.dumps(TRACKS)
    cut = text[: text.index("}") + 1]
    assert sniff_json(cut, truncated=True).records_sampled == 1
    assert sniff_json(cut + ",", truncated=True).records_sampled == 1


def test_unclosed_array_in_a_whole_file_warns() -> None:
    text = json.dumps(TRACKS)[:-1]
    shape = sniff_json(text, truncated=False)
    assert shape.records_sampled == 3
    assert shape.warnings == ["truncated JSON array"]


def test_cut_array_element_in_a_whole_file_warns_with_its_line() -> None:
    text = json.dumps(TRACKS, indent=1)
    cut = text[: text.rindex("track_popularity")]
    shape = sniff_json(cut, truncated=False)
    assert shape.records_sampled == 2
    assert len(shape.warnings) == 1
    line = cut[: cut.rindex("{")].count("\n") + 1
    assert shape.warnings[0].startswith(f"line {line}: invalid JSON")


def test_truncated_sample_with_nothing_complete() -> None:
    with pytest.raises(InvalidInput, match="no JSON records"):
        sniff_json('{"id": "abc", "na', truncated=True)
    with pytest.raises(InvalidInput, match="no JSON records"):
        sniff_json('[{"id": "abc", "na', truncated=True)


# --- types ----------------------------------------------------------------------------------------------


def test_scalar_types() -> None:
    record = {"i": 1, "f": 1.5, "e": 1e300, "whole_float": 2.0, "b": True, "s": "2015-06-09", "n": None, "big": 2**70}
    shape = sniff_json(json.dumps(record), truncated=False)
    assert shape.columns == [
        ("i", "bigint"),
        ("f", "double"),
        ("e", "double"),
        ("whole_float", "double"),
        ("b", "boolean"),
        ("s", "string"),  # no date sniffing inside JSON strings
        ("n", "string"),  # all-null
        ("big", "double"),  # outside int64
    ]


def test_nested_struct_and_array_inference() -> None:
    record = {
        "album": {"name": "Midnights", "release": {"year": 2022, "precision": "day"}},
        "artists": [{"id": "06HL", "genres": ["pop"]}],
        "ratings": [1, 2.5, None],
        "empty": [],
        "matrix": [[1, 2], [3]],
        "odd keys": {"track-number": 1, "Name": "x", "_ok1": True, "weird`name": 0},
    }
    shape = sniff_json(json.dumps(record), truncated=False)
    assert shape.columns == [
        ("album", "struct<name:string,release:struct<year:bigint,precision:string>>"),
        ("artists", "array<struct<id:string,genres:array<string>>>"),
        ("ratings", "array<double>"),
        ("empty", "array<string>"),
        ("matrix", "array<array<bigint>>"),
        ("odd keys", "struct<`track-number`:bigint,Name:string,_ok1:boolean,`weird``name`:bigint>"),
    ]


def test_merging_across_records() -> None:
    records = [
        {"a": 1, "s": {"x": 1}, "l": [], "mixed": 1, "n": None},
        {"b": "new", "a": 2.5, "s": {"y": "z", "x": 3.5}, "l": [True], "mixed": "one"},
        {"a": None, "s": None, "l": None, "mixed": None, "n": None, "c": {"deep": []}},
        {"c": {"deep": [{"k": 1}]}, "conflict": [1]},
        {"conflict": {"k": 1}},
    ]
    shape = sniff_json(_lines(records), truncated=False)
    assert shape.records_sampled == 5
    assert shape.columns == [
        ("a", "double"),
        ("s", "struct<x:double,y:string>"),
        ("l", "array<boolean>"),
        ("mixed", "string"),
        ("n", "string"),
        ("b", "string"),
        ("c", "struct<deep:array<struct<k:bigint>>>"),
        ("conflict", "string"),
    ]


def test_boolean_and_number_do_not_merge_into_a_number() -> None:
    shape = sniff_json(_lines([{"v": True}, {"v": 1}]), truncated=False)
    assert shape.columns == [("v", "string")]


def test_an_object_without_fields_anywhere_is_a_string() -> None:
    shape = sniff_json(_lines([{"meta": {}}, {"meta": {}}]), truncated=False)
    assert shape.columns == [("meta", "string")]
    shape = sniff_json(_lines([{"meta": {}}, {"meta": {"k": 1}}]), truncated=False)
    assert shape.columns == [("meta", "struct<k:bigint>")]


def test_field_names_keep_their_case() -> None:
    shape = sniff_json(_lines([{"Name": "a", "name": "b"}]), truncated=False)
    assert shape.columns == [("Name", "string"), ("name", "string")]


# --- bad records ----------------------------------------------------------------------------------------


def test_bad_lines_warn_with_line_numbers() -> None:
    text = (
        '{"a": 1}\n'  # line 1
        "\n"  # line 2: blank, ignored
        '{"a": 2,}\n'  # line 3: invalid
        "[1, 2]\n"  # line 4: not an object
        '"text"\n'  # line 5: not an object
        '{"a": NaN}\n'  # line 6: NaN is not JSON
        '{"a": 3}\n'  # line 7
        "null\n"  # line 8
    )
    shape = sniff_json(text, truncated=False)
    assert shape.records_sampled == 2
    assert shape.columns == [("a", "bigint")]
    assert [w.split(" (")[0] for w in shape.warnings] == [
        "line 3: invalid JSON",
        "line 4: not a JSON object",
        "line 5: not a JSON object",
        "line 6: invalid JSON",
        "line 8: not a JSON object",
    ]
    assert shape.warnings[1] == "line 4: not a JSON object (array)"
    assert shape.warnings[2] == "line 5: not a JSON object (string)"


def test_non_object_array_elements_warn_with_lines() -> None:
    text = '[\n  {"a": 1},\n  42,\n  {"a": 2}\n]\n'
    shape = sniff_json(text, truncated=False)
    assert shape.records_sampled == 2
    assert shape.warnings == ["line 3: not a JSON object (number)"]


def test_data_after_the_array_warns() -> None:
    shape = sniff_json('[{"a": 1}]\n{"b": 2}\n', truncated=False)
    assert shape.records_sampled == 1
    assert shape.warnings == ["line 1: data after the end of the JSON array ignored"]


def test_warnings_are_capped() -> None:
    text = '{"a": 1}\n' + "[0]\n" * 25
    shape = sniff_json(text, truncated=False)
    assert len(shape.warnings) == 11
    assert shape.warnings[-1] == "… and 15 more problems"


@pytest.mark.parametrize("text", ["", "   \n\n", "\ufeff"])
def test_empty_input(text: str) -> None:
    with pytest.raises(InvalidInput, match="no JSON records"):
        sniff_json(text, truncated=False)


@pytest.mark.parametrize("text", ["id,name\n1,a\n", "42\n43\n", '"just a string"', "[1, 2, 3]", "[[1], [2]]"])
def test_no_objects(text: str) -> None:
    with pytest.raises(InvalidInput, match="no JSON records"):
        sniff_json(text, truncated=False)


def test_mostly_garbage_lines_are_rejected() -> None:
    with pytest.raises(InvalidInput, match="no JSON records"):
        sniff_json("{ not json\n{ neither\n", truncated=False)


# --- properties -----------------------------------------------------------------------------------------

SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "bigint": st.integers(min_value=-(2**63), max_value=2**63 - 1),
    "double": st.floats(allow_nan=False, allow_infinity=False),
    "boolean": st.booleans(),
    "string": st.text(max_size=10),
}
KEYS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(KEYS, st.sampled_from(sorted(SCALARS)), min_size=1, max_size=6),
    st.integers(min_value=1, max_value=20),
    st.booleans(),
    st.data(),
)
def test_random_records_round_trip(schema: dict[str, str], n: int, as_array: bool, data: st.DataObject) -> None:
    records = [{key: data.draw(SCALARS[kind]) for key, kind in schema.items()} for _ in range(n)]
    text = json.dumps(records, indent=1) if as_array else _lines(records)
    shape = sniff_json(text, truncated=False)
    assert shape.layout == ("array" if as_array else "lines")
    assert shape.records_sampled == n
    assert shape.columns == list(schema.items())
    assert shape.warnings == []


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=1, max_value=40), st.booleans(), st.data())
def test_any_cut_of_a_sample_keeps_exactly_the_complete_records(n: int, as_array: bool, data: st.DataObject) -> None:
    records = [{"id": i, "name": f"track {i}", "tags": ["a"] * (i % 3)} for i in range(n)]
    text = json.dumps(records) if as_array else _lines(records)
    cut = data.draw(st.integers(min_value=1, max_value=len(text)))
    sample = text[:cut]
    if as_array:
        complete = sum(1 for i in range(n) if text.index(f'"id": {i},') < cut and _end_of(text, i) <= cut)
    else:
        complete = sample.count("\n")
    if complete == 0:
        with pytest.raises(InvalidInput):
            sniff_json(sample, truncated=True)
        return
    shape = sniff_json(sample, truncated=True)
    assert shape.records_sampled == complete
    assert shape.warnings == []


def _end_of(text: str, i: int) -> int:
    """The position just after the ``}`` closing the record with id ``i`` in a compact JSON array."""
    return text.index("}", text.index(f'"id": {i},')) + 1
