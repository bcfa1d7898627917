"""Athena conformance: every case of tests/fixtures/query/*.yaml, translated to DuckDB, run, rendered as Athena
renders, compared with what Athena returns (the expected values come from Trino's documented semantics, never
from running the translation; see tests/fixtures/query/README.md).

Cases lakeport does not get right yet are listed in ``known_gaps.yaml`` with the reason; they are strict
expected failures, so fixing one without removing it from the list fails the suite too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from lakeport.errors import LakeportError
from lakeport.query.engine import connect, run
from lakeport.query.translate import translate

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "query"
GAPS: dict[str, str] = yaml.safe_load((CORPUS / "known_gaps.yaml").read_text(encoding="utf-8")) or {}


def cases() -> Iterator[Any]:
    for path in sorted(CORPUS.glob("*.yaml")):
        if path.name == "known_gaps.yaml":
            continue
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            marks = [pytest.mark.xfail(strict=True, reason=GAPS[case["id"]])] if case["id"] in GAPS else []
            yield pytest.param(case, id=f"{path.stem}/{case['id']}", marks=marks)


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect()
    yield connection
    connection.close()


def _cells_match(got: list[str | None], expected: list[Any], approx: float | None) -> bool:
    if len(got) != len(expected):
        return False
    for actual, wanted in zip(got, expected, strict=True):
        wanted = None if wanted is None else str(wanted)
        if actual == wanted:
            continue
        if approx is None or actual is None or wanted is None:
            return False
        try:
            if abs(float(actual) - float(wanted)) > approx * max(abs(float(wanted)), 1e-12):
                return False
        except ValueError:
            return False
    return True


@pytest.mark.parametrize("case", list(cases()))
def test_athena_conformance(case: dict[str, Any], con: duckdb.DuckDBPyConnection) -> None:
    if "error" in case:
        with pytest.raises((LakeportError, duckdb.Error)):
            run(con, translate(case["sql"]).duckdb)
        return
    result = run(con, translate(case["sql"]).duckdb)
    assert [t for _, t in result.columns] == [t for _, t in case["columns"]]
    assert [n.lower() for n, _ in result.columns] == [n.lower() for n, _ in case["columns"]]
    expected = [list(r) for r in case["rows"]]
    got = result.rows
    if not case.get("ordered"):
        key = lambda row: [("" if v is None else str(v)) for v in row]  # noqa: E731
        expected, got = sorted(expected, key=key), sorted(got, key=key)
    assert len(got) == len(expected), (got, expected)
    for actual_row, expected_row in zip(got, expected, strict=True):
        assert _cells_match(actual_row, expected_row, case.get("approx")), (actual_row, expected_row)
