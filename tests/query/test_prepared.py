"""Prepared statements and execution parameters: PREPARE / EXECUTE / DEALLOCATE PREPARE through the query
service, Athena's prepared-statement API per workgroup, and ``?`` placeholders bound from literal texts — found by
the tokenizer (never inside strings, quoted names or comments) and refused when they are not one literal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lakeport import Lake
from lakeport.errors import AlreadyExists, InvalidInput, NotFound
from lakeport.query.parameters import ParameterError, bind, placeholders

PEOPLE = "id,name,score\n1,ann,10.5\n2,bob,\n3,cy,7.25\n4,ann,1.0\n"


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    lake.storage.put_object("lakeport", "staging/people/people.csv", PEOPLE.encode())
    lake.crawlers.crawl("s3://lakeport/staging/people/", database="db")
    yield lake
    lake.close()


def rows_of(lake: Lake, execution_id: str) -> list[list[str | None]]:
    page = lake.queries.get_query_results(execution_id)
    return [[c.get("VarCharValue") for c in row["Data"]] for row in page["ResultSet"]["Rows"]]


def run(lake: Lake, sql: str, **kwargs: object) -> tuple[str, str | None, str]:
    execution = lake.queries.start_query_execution(sql, database="db", wait=True, **kwargs)  # type: ignore[arg-type]
    return execution.state, execution.state_change_reason, execution.id


# ---- binding, on its own


def test_placeholders_inside_strings_quoted_names_and_comments_are_not_placeholders() -> None:
    sql = "SELECT '?', \"a?\" -- is this ?\nFROM t /* ? */ WHERE x = ? AND y = '??' AND z = ?"
    assert len(placeholders(sql) or []) == 2
    bound = bind(sql, ["1", "'it''s ?'"], what="the query")
    assert bound.endswith("WHERE x =  1  AND y = '??' AND z =  'it''s ?' ")
    assert bound.startswith("SELECT '?', \"a?\" -- is this ?\n")


def test_a_negative_value_after_a_minus_sign_does_not_become_a_comment() -> None:
    assert bind("SELECT 5 -?", ["-1"], what="the query") == "SELECT 5 - -1 "


@pytest.mark.parametrize(
    "value",
    [
        "'abc'",
        "42",
        "-1.5",
        "1e3",
        "true",
        "NULL",
        "DATE '2024-01-15'",
        "TIMESTAMP '2024-01-15 10:30:00.123'",
        "DECIMAL '1.20'",
        "INTERVAL '2' DAY",
        "ARRAY[1, 2, 3]",
        "X'ab'",
    ],
)
def test_literals_as_athena_takes_them_are_bound_as_written(value: str) -> None:
    assert bind("SELECT ?", [value], what="the query") == f"SELECT  {value} "


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("1; DROP TABLE people", "comment or a ';'"),
        ("1 -- rest", "comment or a ';'"),
        ("1 /* x */", "comment or a ';'"),
        ("(SELECT secret FROM t)", "not a SQL literal"),
        ("name", "not a SQL literal"),
        ("'a' 'b'", "not a SQL literal"),
        ("1 + 1", "not a SQL literal"),
        ("abs(-1)", "not a SQL literal"),
        ("'unterminated", "not a SQL literal"),
        ("", "is empty"),
    ],
)
def test_anything_but_one_literal_is_refused_naming_the_parameter(value: str, why: str) -> None:
    with pytest.raises(ParameterError) as info:
        bind("SELECT ?, ?", ["1", value], what="the query")
    assert "execution parameter 2" in info.value.message
    assert why in info.value.message
    assert info.value.code == "InvalidRequestException"


@pytest.mark.parametrize(("given", "said"), [([], "but 0 execution parameters were given"), (["1", "2", "3"], "3")])
def test_a_wrong_number_of_values_is_refused(given: list[str], said: str) -> None:
    with pytest.raises(ParameterError) as info:
        bind("SELECT ? + ?", given, what="the query")
    assert "2 parameter placeholders (?)" in info.value.message
    assert said in info.value.message


# ---- execution parameters through the service


def test_execution_parameters_fill_the_placeholders_in_order(lake: Lake) -> None:
    state, reason, execution_id = run(
        lake,
        "SELECT id, name FROM people WHERE name = ? AND score > ? ORDER BY id",
        execution_parameters=["'ann'", "5"],
    )
    assert state == "SUCCEEDED", reason
    assert rows_of(lake, execution_id) == [["id", "name"], ["1", "ann"]]
    execution = lake.queries.get_query_execution(execution_id)
    assert execution.query == "SELECT id, name FROM people WHERE name = ? AND score > ? ORDER BY id"
    assert execution.to_athena()["ExecutionParameters"] == ["'ann'", "5"]


def test_a_string_parameter_is_a_value_never_sql(lake: Lake) -> None:
    state, reason, execution_id = run(
        lake, "SELECT count(*) AS n FROM people WHERE name = ?", execution_parameters=["'x'' OR ''1''=''1'"]
    )
    assert state == "SUCCEEDED", reason
    assert rows_of(lake, execution_id)[1] == ["0"]


def test_a_wrong_parameter_count_is_refused_when_the_query_starts(lake: Lake) -> None:
    with pytest.raises(InvalidInput) as info:
        lake.queries.start_query_execution("SELECT * FROM db.people WHERE id = ?", execution_parameters=[])
    assert "1 parameter placeholder (?) but 0 execution parameters were given" in info.value.message
    with pytest.raises(InvalidInput, match="execution parameter 1"):
        lake.queries.start_query_execution("SELECT ?", execution_parameters=["1; SELECT 2"])
    assert lake.queries.list_query_executions() == []


# ---- PREPARE / EXECUTE / DEALLOCATE PREPARE


def test_prepare_execute_and_deallocate_as_statements(lake: Lake) -> None:
    state, reason, prepared_id = run(lake, "PREPARE by_name FROM SELECT id FROM people WHERE name = ? ORDER BY id")
    assert state == "SUCCEEDED", reason
    assert lake.queries.get_query_execution(prepared_id).statement_type == "UTILITY"
    assert rows_of(lake, prepared_id) == []

    state, reason, first = run(lake, "EXECUTE by_name USING 'ann'")
    assert state == "SUCCEEDED", reason
    assert rows_of(lake, first) == [["id"], ["1"], ["4"]]
    state, reason, second = run(lake, "EXECUTE by_name", execution_parameters=["'cy'"])
    assert state == "SUCCEEDED", reason
    assert rows_of(lake, second) == [["id"], ["3"]]

    state, reason, _ = run(lake, "DEALLOCATE PREPARE by_name")
    assert state == "SUCCEEDED", reason
    state, reason, _ = run(lake, "EXECUTE by_name USING 'ann'")
    assert state == "FAILED"
    assert reason is not None
    assert "prepared statement by_name does not exist in workgroup primary" in reason


def test_prepare_again_replaces_the_statement(lake: Lake) -> None:
    run(lake, "PREPARE q FROM SELECT 1 AS v")
    run(lake, "PREPARE q FROM SELECT ? * 10 AS v")
    state, reason, execution_id = run(lake, "EXECUTE q USING 4")
    assert state == "SUCCEEDED", reason
    assert rows_of(lake, execution_id) == [["v"], ["40"]]


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("EXECUTE two USING 1", "prepared statement two has 2 parameter placeholders (?) but 1 USING value was given"),
        ("EXECUTE two USING 1, 2, 3", "3 USING values were given"),
        ("EXECUTE two USING 1, (SELECT 2)", "USING value 2"),
        ("EXECUTE two 1, 2", "expected USING"),
        ("PREPARE bad FROM DROP TABLE people", "only SELECT, VALUES, CREATE TABLE AS or INSERT INTO can be prepared"),
        ("PREPARE broken FROM SELEC 1", "syntax error"),
        ("PREPARE 1x FROM SELECT 1", "not a prepared statement name"),
        ("DEALLOCATE PREPARE missing", "prepared statement missing does not exist"),
    ],
)
def test_bad_prepared_statements_fail_naming_what_is_wrong(lake: Lake, sql: str, reason: str) -> None:
    run(lake, "PREPARE two FROM SELECT ? + ? AS s")
    state, said, _ = run(lake, sql)
    assert state == "FAILED"
    assert said is not None
    assert reason in said
    assert "\n" not in said


def test_execute_with_using_and_execution_parameters_is_refused(lake: Lake) -> None:
    run(lake, "PREPARE one FROM SELECT ? AS v")
    state, reason, _ = run(lake, "EXECUTE one USING 1", execution_parameters=["2"])
    assert state == "FAILED"
    assert reason is not None
    assert "USING values and execution parameters" in reason


# ---- the API, per workgroup


def test_the_prepared_statement_api_is_per_workgroup(lake: Lake) -> None:
    statements = lake.queries.prepared_statements
    lake.queries.workgroups.create_work_group("team")
    statements.create_prepared_statement("top", "primary", "SELECT name FROM people WHERE id = ?", description="one")
    statements.create_prepared_statement("top", "team", "SELECT id FROM people WHERE name = ?")

    assert statements.get_prepared_statement("top", "primary").query_statement.startswith("SELECT name")
    assert statements.get_prepared_statement("top", "team").to_athena()["WorkGroupName"] == "team"
    assert [s.name for s in statements.list_prepared_statements("team")] == ["top"]
    with pytest.raises(AlreadyExists, match="already exists in workgroup team"):
        statements.create_prepared_statement("top", "team", "SELECT 1")

    statements.update_prepared_statement("top", "team", "SELECT ? AS v")
    state, reason, execution_id = run(lake, "EXECUTE top USING 'x'", workgroup="team")
    assert state == "SUCCEEDED", reason
    assert rows_of(lake, execution_id) == [["v"], ["x"]]

    statements.delete_prepared_statement("top", "team")
    with pytest.raises(NotFound) as info:
        statements.get_prepared_statement("top", "team")
    assert info.value.code == "ResourceNotFoundException"
    assert statements.get_prepared_statement("top", "primary").description == "one"


def test_the_api_refuses_bad_names_and_statements(lake: Lake) -> None:
    statements = lake.queries.prepared_statements
    with pytest.raises(InvalidInput, match="not valid"):
        statements.create_prepared_statement("has space", "primary", "SELECT 1")
    with pytest.raises(InvalidInput, match="only SELECT"):
        statements.create_prepared_statement("ok", "primary", "SHOW TABLES")
    with pytest.raises(NotFound, match="workgroup nowhere"):
        statements.list_prepared_statements("nowhere")
