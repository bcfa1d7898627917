"""Views (stored Athena SQL expanded into the query, nested, replaced, cycles refused), Iceberg time travel
(FOR VERSION AS OF / FOR TIMESTAMP AS OF), EXPLAIN, and per-table authorization: a query that reaches a table
the principal may not read — directly, through a join, a CTE, a subquery or a view — is denied."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lakeport import Lake
from lakeport.errors import AccessDenied
from lakeport.iam.principal import Principal
from tests.query.test_ddl import failed, ok, run


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    lake.storage.put_object("lakeport", "raw/people/p.csv", b"1,ann,10\n2,bob,20\n3,cy,30\n")
    lake.storage.put_object("lakeport", "raw/secret/s.csv", b"1,gold\n2,silver\n")
    ok(lake, "CREATE DATABASE db", database="default")
    ok(lake, "CREATE EXTERNAL TABLE people (id int, name string, score int) "
             "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://lakeport/raw/people/'")  # fmt: skip
    ok(lake, "CREATE EXTERNAL TABLE secret (id int, tier string) "
             "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://lakeport/raw/secret/'")  # fmt: skip
    yield lake
    lake.close()


# ---- views


def test_a_view_is_its_query_with_the_callers_predicates_on_top(lake: Lake) -> None:
    ok(lake, "CREATE VIEW high AS SELECT id, name, score * 2 AS double_score FROM people WHERE score >= 20")
    assert ok(lake, "SELECT name, double_score FROM high WHERE id < 3 ORDER BY name") == [["bob", "40"]]
    view = lake.catalog.get_table("db", "high")
    assert view.to_glue()["TableType"] == "VIRTUAL_VIEW"
    assert view.view_text == "SELECT id, name, score * 2 AS double_score FROM people WHERE score >= 20"
    assert [(c.name, c.type) for c in view.columns] == [("id", "int"), ("name", "string"), ("double_score", "int")]
    assert ok(lake, "DESCRIBE high") == [["id", "int", ""], ["name", "string", ""], ["double_score", "int", ""]]
    assert ok(lake, "SHOW VIEWS") == [["high"]]
    assert ok(lake, "SHOW CREATE VIEW high")[-1] == [view.view_text]


def test_views_nest_and_resolve_names_in_their_own_database(lake: Lake) -> None:
    ok(lake, "CREATE VIEW base AS SELECT id, name FROM people")  # unqualified: db.people
    ok(lake, "CREATE DATABASE other", database="default")
    ok(lake, "CREATE VIEW other.top AS SELECT b.name, s.tier FROM db.base b JOIN db.secret s ON b.id = s.id")
    assert ok(lake, "SELECT * FROM top ORDER BY name", database="other") == [["ann", "gold"], ["bob", "silver"]]
    assert ok(lake, "SELECT count(*) FROM other.top t1 JOIN other.top t2 ON t1.name = t2.name") == [["2"]]


def test_create_or_replace_and_errors(lake: Lake) -> None:
    ok(lake, "CREATE VIEW v AS SELECT id FROM people")
    assert "already exists" in failed(lake, "CREATE VIEW v AS SELECT name FROM people")
    ok(lake, "CREATE OR REPLACE VIEW v AS SELECT name FROM people")
    assert ok(lake, "SELECT * FROM v ORDER BY name") == [["ann"], ["bob"], ["cy"]]
    assert "is a table" in failed(lake, "CREATE OR REPLACE VIEW people AS SELECT 1 AS x")
    assert "does not exist" in failed(lake, "CREATE VIEW w AS SELECT * FROM nothing_here")
    assert "appears twice" in failed(lake, "CREATE VIEW w AS SELECT id, id FROM people")


def test_a_cycle_of_views_is_refused_not_recursed(lake: Lake) -> None:
    ok(lake, "CREATE VIEW v1 AS SELECT id FROM people")
    ok(lake, "CREATE VIEW v2 AS SELECT id FROM v1")
    ok(lake, "CREATE OR REPLACE VIEW v1 AS SELECT id FROM v2")  # v2 → old v1 at creation time: fine
    assert "refers to itself" in failed(lake, "SELECT * FROM v2")


def test_a_view_whose_table_was_dropped_fails_naming_the_table(lake: Lake) -> None:
    ok(lake, "CREATE VIEW v AS SELECT tier FROM secret")
    ok(lake, "DROP TABLE secret")
    assert "db.secret does not exist" in failed(lake, "SELECT * FROM v")


# ---- time travel


def test_for_version_and_for_timestamp_read_old_snapshots(lake: Lake) -> None:
    ok(lake, "CREATE TABLE ice WITH (table_type = 'ICEBERG') AS SELECT id, name FROM people WHERE id = 1")
    first = lake.warehouse.history("db", "ice")[-1]
    time.sleep(0.02)
    between = datetime.now(UTC)
    time.sleep(0.02)
    ok(lake, "INSERT INTO ice SELECT id, name FROM people WHERE id > 1")
    assert ok(lake, "SELECT count(*) FROM ice") == [["3"]]
    assert ok(lake, f"SELECT name FROM ice FOR VERSION AS OF {first.snapshot_id}") == [["ann"]]
    stamp = between.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    assert ok(lake, f"SELECT count(*) FROM ice FOR TIMESTAMP AS OF TIMESTAMP '{stamp} UTC'") == [["1"]]
    assert ok(lake, "SELECT count(*) FROM ice FOR TIMESTAMP AS OF current_timestamp") == [["3"]]
    assert ok(  # the same table at two versions in one query
        lake, f"SELECT (SELECT count(*) FROM ice) - (SELECT count(*) FROM ice FOR VERSION AS OF {first.snapshot_id})"
    ) == [["2"]]
    assert "no snapshot 42" in failed(lake, "SELECT * FROM ice FOR VERSION AS OF 42")
    assert "no snapshot as of" in failed(lake, "SELECT * FROM ice FOR TIMESTAMP AS OF TIMESTAMP '2001-01-01 00:00:00'")
    assert "not an Iceberg table" in failed(lake, "SELECT * FROM people FOR VERSION AS OF 1")


# ---- EXPLAIN


def test_explain_shows_a_plan_without_running_and_analyze_runs_it(lake: Lake) -> None:
    plan = [line[0] or "" for line in ok(lake, "EXPLAIN SELECT name FROM people WHERE score > 15")]
    assert any("score" in line for line in plan)
    execution = run(lake, "EXPLAIN ANALYZE SELECT count(*) FROM people")
    assert execution.state == "SUCCEEDED"
    assert execution.statement_type == "UTILITY"
    assert ok(lake, "EXPLAIN (TYPE VALIDATE) SELECT 1") == [["true"]]
    assert "read_csv" in failed(lake, "EXPLAIN SELECT * FROM read_csv('/etc/passwd')")
    assert "not supported" in failed(lake, "EXPLAIN (FORMAT GRAPHVIZ) SELECT 1")


# ---- per-table authorization


DENIED_TABLE = "table/db/secret"


@pytest.fixture
def guarded(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> Lake:
    """The lake's one authorization point, with a policy that allows everything except reading db.secret."""
    allow_all = Principal(arn=lake.iam.admin.arn, name=lake.iam.admin.name)

    def authorize(principal: Principal, action: str, resource: str, context: object = None) -> None:
        if action == "glue:GetTable" and resource.endswith(DENIED_TABLE):
            raise AccessDenied(f"{principal.arn} is not authorized to perform {action} on resource {resource}")
        assert principal.arn == allow_all.arn

    monkeypatch.setattr(lake.iam, "authorize", authorize)
    return lake


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM secret",
        "SELECT p.name FROM people p JOIN secret s ON p.id = s.id",
        "WITH s AS (SELECT * FROM secret) SELECT count(*) FROM s",
        "SELECT name FROM people WHERE id IN (SELECT id FROM secret)",
        "SELECT * FROM people UNION ALL SELECT id, tier, 0 FROM secret",
        "SELECT * FROM tiers",
        "SELECT * FROM (SELECT * FROM tiers) t",
        "CREATE TABLE leak AS SELECT * FROM secret",
        "INSERT INTO people SELECT id, tier, 0 FROM secret",
        "EXPLAIN SELECT * FROM secret",
    ],
)
def test_a_query_reaching_a_denied_table_any_way_is_denied(guarded: Lake, sql: str) -> None:
    # the view was made by someone who could read db.secret; the caller cannot, so reading it is denied
    guarded.catalog.create_table(
        guarded.catalog.get_table("db", "people").with_changes(
            name="tiers", table_type="VIRTUAL_VIEW", view_text="SELECT id, tier FROM secret", location=""
        ),
        replace=True,
    )
    reason = failed(guarded, sql)
    assert "not authorized to perform glue:GetTable" in reason
    assert DENIED_TABLE in reason
    assert ok(guarded, "SELECT count(*) FROM people") == [["3"]]


def test_a_table_whose_objects_may_not_be_read_is_denied_too(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    """Athena's model: reading a table needs glue:GetTable on it and s3:GetObject on its objects."""

    def authorize(principal: Principal, action: str, resource: str, context: object = None) -> None:
        if action == "s3:GetObject" and resource.startswith("arn:aws:s3:::lakeport/raw/secret/"):
            raise AccessDenied(f"{principal.arn} is not authorized to perform {action} on resource {resource}")

    monkeypatch.setattr(lake.iam, "authorize", authorize)
    reason = failed(lake, "SELECT p.name FROM people p JOIN secret s ON p.id = s.id")
    assert "s3:GetObject on resource arn:aws:s3:::lakeport/raw/secret/s.csv" in reason
    assert ok(lake, "SELECT count(*) FROM people") == [["3"]]
