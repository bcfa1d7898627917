"""CloudWatch Logs filter patterns: the corpus in tests/fixtures/observe/filter_patterns.yaml, written from AWS's
"Filter pattern syntax" pages (terms, phrases, ?any, -exclusions, JSON, space-delimited, regex)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from lakeport.errors import InvalidInput
from lakeport.observe.filter_patterns import event_document, parse_filter_pattern

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent.parent / "fixtures" / "observe" / "filter_patterns.yaml").read_text()
)


def test_the_corpus_is_big_enough_and_ids_are_unique() -> None:
    assert len(CASES) >= 40
    assert len({c["id"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_filter_pattern_case(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(InvalidInput, match=case["error"]) as caught:
            parse_filter_pattern(case["pattern"])
        assert caught.value.hint
        return
    pattern = parse_filter_pattern(case["pattern"])
    assert pattern.matches(case["message"], case.get("level", "INFO"), case.get("fields")) is case["expect"]


def test_plain_terms_are_pushed_down_as_substrings() -> None:
    assert parse_filter_pattern('ERROR "a phrase" -DEBUG').sql_terms == (("ERROR",), ("a phrase",))
    assert parse_filter_pattern("?ERROR ?WARN").sql_terms == (("ERROR", "WARN"),)
    assert parse_filter_pattern('{ $.level = "ERROR" }').sql_terms == (("ERROR",),)
    both = parse_filter_pattern('{ $.a = "x" && ($.b = "y" || $.b = "y") && $.c = "w*" && $.d != "z" }')
    assert both.sql_terms == (("x",), ("y",))
    assert parse_filter_pattern('{ $.a = "x" || $.b = 5 }').sql_terms == ()


def test_the_document_of_a_structured_event() -> None:
    assert event_document("hi", "WARN", {"run_id": "r"}) == {"level": "WARN", "message": "hi", "run_id": "r"}
    assert event_document('{"a": 1}', "INFO", {"run_id": "r"}) == {"a": 1}
    assert event_document("{not json", "INFO") == {"level": "INFO", "message": "{not json"}


def test_the_database_prefilter_never_drops_a_match(tmp_path: Path) -> None:
    """Every corpus pattern through filter_log_events (LIKE and json_extract pre-filters, then Python) finds
    exactly what the pattern matches; JSON messages are also stored as structured fields of a plain message."""
    import json
    import time

    from lakeport.metadata import MetadataDB
    from lakeport.observe.logs import LogStore

    db = MetadataDB(f"sqlite:///{tmp_path / 'logs.db'}")
    db.upgrade()
    store = LogStore(db)
    stamp = int(time.time() * 1000)
    events: list[dict[str, Any]] = []
    for case in CASES:
        if "error" in case:
            continue
        events.append({"message": case["message"], "level": case.get("level", "INFO"), "fields": case.get("fields")})
        try:
            parsed = json.loads(case["message"])
        except ValueError:
            continue
        if isinstance(parsed, dict):
            events.append({"message": "structured", "level": "INFO", "fields": parsed})
    store.put_log_events("/corpus", "s", [{"timestamp": stamp, **e} for e in events])
    for case in CASES:
        if "error" in case:
            continue
        pattern = parse_filter_pattern(case["pattern"])
        expected = [e["message"] for e in events if pattern.matches(e["message"], e["level"], e["fields"])]
        found = [e["message"] for e in store.filter_log_events("/corpus", filter_pattern=case["pattern"])["events"]]
        assert found == expected, case["id"]
