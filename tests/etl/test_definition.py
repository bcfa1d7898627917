"""Job definitions: validation errors that name job, node and field; parameters; YAML/JSON/.py files; round trips."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from lakeport.errors import InvalidInput
from lakeport.etl import JobDefinition
from lakeport.etl.nodes import Join, NodeError, Sink, Source, node_from_dict
from tests.etl.etl_kit import job, sink, source

Spec = dict[str, Any]

FILTER = {"id": "f", "type": "filter", "input": "s", "condition": "n > 0"}


def refused(data: dict[str, Any]) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        JobDefinition.from_dict(data)
    return info.value


# ---- node errors: each names the job, the node and the field


NODE_ERRORS: list[tuple[str, list[Spec], str, str, str]] = [
    # case, nodes, node at fault, field at fault, a fragment of the message
    ("bad type", [source(), {**FILTER, "type": "filtr"}, sink()], "f", "type", "'filtr'"),
    ("unknown field", [source(), {**FILTER, "bogus": 1}, sink()], "f", "bogus", "unknown field"),
    ("missing inputs", [source(), {k: v for k, v in FILTER.items() if k != "input"}, sink()], "f", "inputs", "input"),
    ("input names no node", [source(), {**FILTER, "input": "zz"}, sink()], "f", "inputs", "'zz'"),
    ("input is a sink", [source(), {**FILTER, "input": "out"}, sink()], "f", "inputs", "out is a sink"),
    (
        "bad join how",
        [
            source(),
            source("s2"),
            {"id": "jn", "type": "join", "inputs": ["s", "s2"], "how": "outer", "on": ["id"]},
            sink(input="jn"),
        ],
        "jn",
        "how",
        "'outer' is not one of inner, left, right, full, semi, anti",
    ),
    (
        "join with one input",
        [source(), {"id": "jn", "type": "join", "inputs": ["s"], "on": ["id"]}, sink(input="jn")],
        "jn",
        "inputs",
        "two inputs",
    ),
    (
        "join without keys",
        [source(), source("s2"), {"id": "jn", "type": "join", "inputs": ["s", "s2"]}, sink(input="jn")],
        "jn",
        "on",
        "key columns",
    ),
    (
        "join key not a pair",
        [
            source(),
            source("s2"),
            {"id": "jn", "type": "join", "inputs": ["s", "s2"], "on": [["a", "b", "c"]]},
            sink(input="jn"),
        ],
        "jn",
        "on",
        "[left, right]",
    ),
    ("merge without keys", [source(), sink(mode="merge")], "out", "keys", "merge"),
    (
        "overwrite_partitions without partition_by",
        [source(), sink(mode="overwrite_partitions")],
        "out",
        "partition_by",
        "",
    ),
    ("bad sink mode", [source(), sink(mode="upsert")], "out", "mode", "'upsert'"),
    ("sink table not db.table", [source(), sink(table="tracks")], "out", "table", "'tracks'"),
    ("bad compression", [source(), sink(compression="lz4")], "out", "compression", "'lz4'"),
    ("file size out of range", [source(), sink(target_file_size_mb=0)], "out", "target_file_size_mb", "4096"),
    ("bad type in columns", [source(columns={"n": "integr"}), sink()], "s", "columns", "integr"),
    ("bad format", [source(format="avro"), sink()], "s", "format", "'avro'"),
    ("unknown option", [source(options={"delim": ";"}), sink()], "s", "options", "'delim'"),
    ("path and table", [source(table="db.x"), sink()], "s", "", "either a 'path' or a catalog 'table'"),
    (
        "bad type in mappings",
        [
            source(),
            {"id": "m", "type": "apply_mapping", "input": "s", "mappings": [["a", "b", "strin"]]},
            sink(input="m"),
        ],
        "m",
        "mappings",
        "strin",
    ),
    (
        "malformed mapping",
        [source(), {"id": "m", "type": "apply_mapping", "input": "s", "mappings": [["a"]]}, sink(input="m")],
        "m",
        "mappings",
        "[from, to, type]",
    ),
    (
        "no mappings",
        [source(), {"id": "m", "type": "apply_mapping", "input": "s", "mappings": []}, sink(input="m")],
        "m",
        "mappings",
        "at least one",
    ),
    ("empty condition", [source(), {**FILTER, "condition": "  "}, sink()], "f", "condition", "empty"),
    (
        "no fields to select",
        [source(), {"id": "sf", "type": "select_fields", "input": "s", "fields": []}, sink(input="sf")],
        "sf",
        "fields",
        "at least one",
    ),
    (
        "fields not names",
        [source(), {"id": "sf", "type": "drop_fields", "input": "s", "fields": [1, 2]}, sink(input="sf")],
        "sf",
        "fields",
        "list of names",
    ),
    (
        "union of one",
        [source(), {"id": "u", "type": "union", "inputs": ["s"]}, sink(input="u")],
        "u",
        "inputs",
        "at least two",
    ),
    (
        "no aggregations",
        [source(), {"id": "a", "type": "aggregate", "input": "s", "group_by": ["k"]}, sink(input="a")],
        "a",
        "aggregations",
        "",
    ),
    (
        "empty sql",
        [source(), {"id": "q", "type": "sql", "input": "s", "query": ""}, sink(input="q")],
        "q",
        "query",
        "empty",
    ),
    (
        "sink of two inputs",
        [source(), source("s2"), {**sink(), "input": None, "inputs": ["s", "s2"]}],
        "out",
        "input",
        "exactly one",
    ),
]


@pytest.mark.parametrize(
    ("nodes", "node", "field", "fragment"), [c[1:] for c in NODE_ERRORS], ids=[c[0] for c in NODE_ERRORS]
)
def test_node_errors_name_job_node_and_field(nodes: list[Spec], node: str, field: str, fragment: str) -> None:
    nodes = [{k: v for k, v in n.items() if v is not None} for n in nodes]
    error = refused(job(*nodes))
    assert isinstance(error, NodeError)
    assert error.message.startswith(f"job j, node {node}")
    if field:
        assert f"field '{field}'" in error.message
    assert fragment in error.message


def test_unknown_field_hint_lists_the_node_types_fields() -> None:
    error = refused(job(source(), {**FILTER, "condtion": "n > 0"}, sink()))
    assert "field 'condtion'" in error.message
    assert error.hint == "condition"


def test_unknown_option_hint_lists_the_known_options() -> None:
    error = refused(job(source(options={"delim": ";"}), sink()))
    assert error.hint is not None
    assert "delimiter" in error.hint.split(", ")


def test_bad_column_type_names_the_column() -> None:
    error = refused(job(source(columns={"id": "bigint", "plays": "integr"}), sink()))
    assert "job j, node s, field 'columns'" in error.message
    assert "plays" in error.message


def test_bad_node_id_is_named() -> None:
    error = refused(job({**source(), "id": "bad id"}, sink()))
    assert error.message.startswith("job j:")
    assert "'bad id'" in error.message


def test_duplicate_ids_name_the_node() -> None:
    error = refused(job(source(), source(), sink()))
    assert error.message.startswith("job j, node s")
    assert "twice" in error.message


@pytest.mark.parametrize(
    ("loop", "pattern"),
    [
        (
            [
                {"id": "a", "type": "filter", "input": "b", "condition": "true"},
                {"id": "b", "type": "filter", "input": "a", "condition": "true"},
            ],
            r"a → b → a|b → a → b",
        ),
        ([{"id": "a", "type": "filter", "input": "a", "condition": "true"}], r"a → a"),
    ],
    ids=["a-b-a", "self"],
)
def test_cycles_are_refused_naming_the_nodes(loop: list[Spec], pattern: str) -> None:
    error = refused(job(source(), *loop, sink(input="a")))
    assert error.message.startswith("job j")
    assert "cycle" in error.message
    assert re.search(pattern, error.message)


def test_no_sink_is_refused() -> None:
    error = refused(job(source(), FILTER))
    assert error.message == "job j: no sink node"
    assert error.hint is not None
    assert "sink" in error.hint


def test_no_source_is_refused() -> None:
    # without a source, every node reads another; a DAG check names the missing source (or the loop)
    error = refused(
        job(
            {"id": "a", "type": "sql", "input": "b", "query": "SELECT 1"},
            {"id": "b", "type": "sql", "input": "a", "query": "SELECT 1"},
            sink(input="a"),
        )
    )
    assert error.message.startswith("job j")
    assert "source" in error.message or "cycle" in error.message


def test_no_nodes_is_refused() -> None:
    assert refused(job()).message == "job j: no nodes"


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"nodez": []}, "unknown field 'nodez'"),
        ({"bad_records": "skip"}, "bad_records 'skip' is not one of fail, drop, quarantine"),
        ({"kind": "spark"}, "kind 'spark' is not one of dag, python"),
        ({"max_retries": -1}, "max_retries must be 0 or more"),
        ({"timeout_minutes": 0}, "timeout_minutes must be 1 or more"),
        ({"nodes": {"id": "s"}}, "'nodes' is a list of nodes"),
        ({"parameters": ["a"]}, "'parameters' maps names"),
    ],
)
def test_job_level_errors_name_the_job(fields: dict[str, Any], fragment: str) -> None:
    error = refused({**job(source(), sink()), **fields})
    assert error.message.startswith("job j")
    assert fragment in error.message


def test_bad_job_name_is_refused() -> None:
    error = refused(job(source(), sink(), name="no spaces please"))
    assert "'no spaces please'" in error.message


# ---- node values of the wrong shape: a NodeError naming the field, never a Python crash


WRONG_SHAPES: list[tuple[str, list[Spec], str, str]] = [
    ("source columns a string", [source(columns="bigint"), sink()], "s", "columns"),
    ("filter condition a number", [source(), {**FILTER, "condition": 5}, sink()], "f", "condition"),
    ("sink file size not a number", [source(), sink(target_file_size_mb="sixty-four")], "out", "target_file_size_mb"),
    (
        "derive columns a list",
        [source(), {"id": "d", "type": "derive", "input": "s", "columns": ["a"]}, sink(input="d")],
        "d",
        "columns",
    ),
    (
        "aggregations a list",
        [source(), {"id": "a", "type": "aggregate", "input": "s", "aggregations": ["count(*)"]}, sink(input="a")],
        "a",
        "aggregations",
    ),
    (
        "fill values a list",
        [source(), {"id": "fm", "type": "fill_missing", "input": "s", "values": ["x"]}, sink(input="fm")],
        "fm",
        "values",
    ),
]


@pytest.mark.parametrize(("nodes", "node", "field"), [c[1:] for c in WRONG_SHAPES], ids=[c[0] for c in WRONG_SHAPES])
def test_wrong_shaped_values_are_node_errors(nodes: list[Spec], node: str, field: str) -> None:
    with pytest.raises(NodeError) as info:
        JobDefinition.from_dict(job(*nodes))
    assert f"job j, node {node}, field '{field}'" in info.value.message


def test_join_on_a_bare_column_name() -> None:
    spec = {"id": "jn", "type": "join", "inputs": ["a", "b"], "on": "id"}
    node, error = None, None
    try:
        node = node_from_dict("j", spec)
    except NodeError as exc:  # refusing it is fine too, if the error names the field
        error = exc
    if error is not None:
        assert "field 'on'" in error.message
    else:
        assert isinstance(node, Join)
        assert node.on == (("id", "id"),)


def test_join_keys_in_every_documented_form() -> None:
    spec = {
        "id": "jn",
        "type": "join",
        "inputs": ["a", "b"],
        "on": ["id", ["artist_id", "id"], {"left": "x", "right": "y"}],
    }
    node = node_from_dict("j", spec)
    assert isinstance(node, Join)
    assert node.on == (("id", "id"), ("artist_id", "id"), ("x", "y"))


def test_mappings_in_every_documented_form() -> None:
    spec = {
        "id": "m",
        "type": "apply_mapping",
        "input": "s",
        "mappings": [{"from": "a", "to": "b", "type": "bigint"}, ["c", "d", "double"], ["e", "date"], {"from": "f"}],
    }
    node = node_from_dict("j", spec)
    got = [(m.source, m.target, m.type) for m in node.mappings]  # type: ignore[attr-defined]
    assert got == [("a", "b", "bigint"), ("c", "d", "double"), ("e", "e", "date"), ("f", "f", "string")]


# ---- YAML's on: key


YAML_JOB = """\
# albums joined to their artists
name: yjob
parameters:
  staging: s3://lakeport/staging/spotify/
  table: spotify.tracks
nodes:
  - id: albums
    type: source
    path: ${staging}albums.csv
    columns: {track_number: bigint, release_date: timestamp}
  - id: artists
    type: source
    path: ${staging}artists.csv
  - id: joined
    type: join
    inputs: [albums, artists]
    how: left
    on: [[artist_id, id]]
  - id: warehouse
    type: sink
    input: joined
    table: ${table}
    mode: overwrite
"""


def test_yaml_on_key_is_the_join_keys(tmp_path: Path) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(YAML_JOB)
    definition = JobDefinition.from_file(path)
    joined = definition.node("joined")
    assert isinstance(joined, Join)
    assert joined.how == "left"
    assert joined.on == (("artist_id", "id"),)
    # stored JSON-safe: the spec's key is the string "on", not YAML 1.1's boolean true
    assert all(isinstance(k, str) for spec in definition.to_dict()["nodes"] for k in spec)
    json.dumps(definition.to_dict())


def test_yaml_on_key_through_from_dict() -> None:
    import yaml

    data = yaml.safe_load(YAML_JOB)
    assert True in data["nodes"][2]  # what YAML 1.1 makes of a bare on:
    definition = JobDefinition.from_dict(data)
    joined = definition.node("joined")
    assert isinstance(joined, Join)
    assert joined.on == (("artist_id", "id"),)


# ---- parameters


def test_parameter_defaults_fill_placeholders() -> None:
    definition = JobDefinition.from_dict(yaml_data())
    albums = definition.node("albums")
    assert isinstance(albums, Source)
    assert albums.path == "s3://lakeport/staging/spotify/albums.csv"
    params, nodes = definition.resolved()
    assert dict(params.parameters) == {"staging": "s3://lakeport/staging/spotify/", "table": "spotify.tracks"}
    by_id = {n.id: n for n in nodes}
    sink_node = by_id["warehouse"]
    assert isinstance(sink_node, Sink)
    assert sink_node.table == "spotify.tracks"
    # the definition keeps its placeholders: a later run with other arguments fills them afresh
    assert definition.to_dict()["nodes"][0]["path"] == "${staging}albums.csv"


def test_run_arguments_override_defaults() -> None:
    definition = JobDefinition.from_dict(yaml_data())
    params, nodes = definition.resolved({"staging": "s3://other/in/", "table": "db.t2023"})
    by_id = {n.id: n for n in nodes}
    albums, artists, warehouse = by_id["albums"], by_id["artists"], by_id["warehouse"]
    assert isinstance(albums, Source)
    assert isinstance(artists, Source)
    assert isinstance(warehouse, Sink)
    assert albums.path == "s3://other/in/albums.csv"
    assert artists.path == "s3://other/in/artists.csv"
    assert warehouse.table == "db.t2023"
    assert params.parameters["table"] == "db.t2023"
    # only the named arguments change
    assert dict(definition.resolved({"table": "db.x"})[0].parameters)["staging"] == "s3://lakeport/staging/spotify/"


def test_unknown_argument_is_refused() -> None:
    definition = JobDefinition.from_dict(yaml_data())
    with pytest.raises(InvalidInput) as info:
        definition.resolved({"tabel": "db.x"})
    assert info.value.message == "job yjob: unknown argument 'tabel'"
    assert info.value.hint is not None
    assert "staging, table" in info.value.hint


def test_placeholder_without_a_value_is_refused() -> None:
    definition = JobDefinition.from_dict(job(source(path="${staging}x.csv"), sink()))
    with pytest.raises(InvalidInput) as info:
        definition.resolved()
    assert "job j, node s" in info.value.message
    assert "${staging}" in info.value.message


def test_argument_values_are_checked_like_the_definition() -> None:
    definition = JobDefinition.from_dict(job(source(), sink(mode="${mode}"), parameters={"mode": "append"}))
    assert definition.resolved({"mode": "overwrite"})[1][-1].mode == "overwrite"  # type: ignore[attr-defined]
    with pytest.raises(NodeError) as info:
        definition.resolved({"mode": "upsert"})
    assert "job j, node out, field 'mode'" in info.value.message


def test_placeholders_inside_lists_and_mappings() -> None:
    data = job(
        source(columns={"n": "${ntype}"}),
        {"id": "k", "type": "select_fields", "input": "s", "fields": ["${col}", "n"]},
        sink(input="k"),
        parameters={"ntype": "bigint", "col": "id"},
    )
    _, nodes = JobDefinition.from_dict(data).resolved({"col": "name"})
    assert nodes[0].columns == {"n": "bigint"}  # type: ignore[attr-defined]
    assert nodes[1].fields == ("name", "n")  # type: ignore[attr-defined]


def test_parameter_without_default_needs_an_argument() -> None:
    definition = JobDefinition.from_dict(job(source(path="${staging}"), sink(), parameters={"staging": None}))
    _, nodes = definition.resolved({"staging": "s3://lakeport/in/"})
    assert nodes[0].path == "s3://lakeport/in/"  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput):
        definition.resolved()


def test_parameter_in_a_number_field() -> None:
    data = job(source(), sink(target_file_size_mb="${size}"), parameters={"size": "64"})
    definition, error = None, None
    try:
        definition = JobDefinition.from_dict(data)
    except NodeError as exc:  # refusing it is fine too, if the error names the field
        error = exc
    if error is not None:
        assert "field 'target_file_size_mb'" in error.message
    else:
        assert definition is not None
        assert definition.resolved({"size": "32"})[1][-1].target_file_size_mb == 32  # type: ignore[attr-defined]


# ---- files


def yaml_data() -> dict[str, Any]:
    import yaml

    data: dict[str, Any] = yaml.safe_load(YAML_JOB)
    return data


def test_json_and_yaml_files_give_the_same_definition(tmp_path: Path) -> None:
    (tmp_path / "job.yaml").write_text(YAML_JOB)
    (tmp_path / "job.yml").write_text(YAML_JOB)
    from_yaml = JobDefinition.from_file(tmp_path / "job.yaml")
    as_json = json.dumps(from_yaml.to_dict())
    (tmp_path / "job.json").write_text(as_json)
    from_json = JobDefinition.from_file(tmp_path / "job.json")
    assert from_json == from_yaml
    assert JobDefinition.from_file(tmp_path / "job.yml") == from_yaml
    assert from_yaml.name == "yjob"
    assert [n.id for n in from_yaml.order()][-1] == "warehouse"


def test_file_name_given_overrides_the_files(tmp_path: Path) -> None:
    (tmp_path / "job.yaml").write_text(YAML_JOB)
    assert JobDefinition.from_file(tmp_path / "job.yaml", name="other").name == "other"


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nnodes:\n  - id: a\n   type: [source\n")
    with pytest.raises(InvalidInput) as info:
        JobDefinition.from_file(path)
    assert str(path) in info.value.message
    assert re.search(r"line \d+, column \d+", info.value.message)


def test_invalid_json_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"name": "x",\n "nodes": [}\n')
    with pytest.raises(InvalidInput) as info:
        JobDefinition.from_file(path)
    assert f"{path} line 2, column" in info.value.message


def test_a_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(InvalidInput, match="a job definition is a mapping"):
        JobDefinition.from_file(path)


def test_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(InvalidInput) as info:
        JobDefinition.from_file(path)
    assert str(path) in info.value.message


def test_python_job_from_a_py_file(tmp_path: Path) -> None:
    script = tmp_path / "clean_tracks.py"
    script.write_text("def main(ctx):\n    pass\n")
    definition = JobDefinition.from_file(script)
    assert definition.name == "clean_tracks"
    assert definition.kind == "python"
    assert definition.script == str(script.resolve())
    assert definition.entry == "main"
    assert definition.nodes == ()
    assert JobDefinition.from_file(script, name="tracks-py").name == "tracks-py"


def test_python_job_script_relative_to_its_definition_file(tmp_path: Path) -> None:
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "work.py").write_text("def run(ctx):\n    pass\n")
    path = tmp_path / "jobs" / "job.yaml"
    path.write_text("name: pj\nscript: work.py\nentry: run\nparameters: {day: '2024-01-01'}\n")
    definition = JobDefinition.from_file(path)
    assert definition.kind == "python"
    assert definition.script == str((tmp_path / "jobs" / "work.py").resolve())
    assert definition.entry == "run"
    assert definition.resolved({"day": "2024-02-02"})[0].parameters == {"day": "2024-02-02"}


def test_python_job_needs_a_script() -> None:
    error = refused({"name": "pj", "kind": "python"})
    assert error.message == "job pj: a python job needs 'script' (the module's file)"


# ---- round trips


def test_dag_round_trip() -> None:
    definition = JobDefinition.from_dict(
        {
            **yaml_data(),
            "description": "albums and artists",
            "bookmarks": True,
            "bad_records": "quarantine",
            "max_retries": 2,
            "timeout_minutes": 30,
            "max_concurrent_runs": 3,
            "memory_limit": "512MB",
            "role": "arn:aws:iam::000000000000:role/etl",
        }
    )
    again = JobDefinition.from_dict(json.loads(json.dumps(definition.to_dict())))
    assert again == definition
    assert again.to_dict() == definition.to_dict()
    assert again.nodes == definition.nodes
    assert again.to_dict()["bad_records"] == "quarantine"


def test_python_round_trip(tmp_path: Path) -> None:
    definition = JobDefinition.from_dict(
        {"name": "pj", "script": str(tmp_path / "x.py"), "entry": "go", "parameters": {"a": "1"}}
    )
    assert definition.kind == "python"
    again = JobDefinition.from_dict(json.loads(json.dumps(definition.to_dict())))
    assert again == definition


@pytest.mark.parametrize("field", ["max_retries", "timeout_minutes", "max_concurrent_runs"])
def test_a_wrongly_typed_number_is_refused_naming_the_field(field: str) -> None:
    with pytest.raises(InvalidInput, match=field):
        JobDefinition.from_dict({"name": "j", "nodes": [], field: "abc"})
