"""EventBridge event patterns (content filtering) and object patterns, from the rules of EventBridge's user guide."""

from __future__ import annotations

from typing import Any

import pytest

from lakeport.errors import InvalidInput
from lakeport.triggers.patterns import check_event_pattern, matches, parse_object_pattern

EVENT: dict[str, Any] = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "Glue Job State Change",
    "source": "aws.glue",
    "account": "000000000000",
    "time": "2026-11-21T17:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:glue:us-east-1:000000000000:job/load"],
    "detail": {
        "jobName": "load-spotify",
        "state": "FAILED",
        "jobRunId": "jr_1",
        "message": "boom",
        "attempt": 2,
        "tags": ["daily", "spotify"],
        "nothing": None,
        "ok": False,
    },
}

MATCHING = [
    {"source": ["aws.glue"]},
    {"source": ["aws.s3", "aws.glue"]},
    {"detail-type": ["Glue Job State Change"], "detail": {"state": ["FAILED", "TIMEOUT"]}},
    {"detail": {"jobName": [{"prefix": "load-"}]}},
    {"detail": {"jobName": [{"suffix": "spotify"}]}},
    {"detail": {"jobName": [{"prefix": {"equals-ignore-case": "LOAD-"}}]}},
    {"detail": {"jobName": [{"suffix": {"equals-ignore-case": "SPOTIFY"}}]}},
    {"detail": {"jobName": [{"equals-ignore-case": "Load-Spotify"}]}},
    {"detail": {"jobName": [{"wildcard": "load-*fy"}]}},
    {"detail": {"state": [{"anything-but": "SUCCEEDED"}]}},
    {"detail": {"state": [{"anything-but": ["SUCCEEDED", "STOPPED"]}]}},
    {"detail": {"state": [{"anything-but": {"prefix": "SUCC"}}]}},
    {"detail": {"state": [{"anything-but": {"suffix": "ED2"}}]}},
    {"detail": {"attempt": [{"numeric": [">", 1]}]}},
    {"detail": {"attempt": [{"numeric": [">=", 2, "<", 3]}]}},
    {"detail": {"attempt": [{"numeric": ["=", 2]}]}},
    {"detail": {"attempt": [2.0]}},
    {"detail": {"message": [{"exists": True}]}},
    {"detail": {"missing": [{"exists": False}]}},
    {"detail": {"tags": ["spotify"]}},  # an array field matches when any element does
    {"detail": {"nothing": [None]}},
    {"detail": {"ok": [False]}},
    {"resources": [{"prefix": "arn:aws:glue:"}]},
    {"$or": [{"source": ["aws.s3"]}, {"detail": {"state": ["FAILED"]}}]},
    {"detail": {"$or": [{"state": ["SUCCEEDED"]}, {"attempt": [{"numeric": [">", 1]}]}]}},
]

NOT_MATCHING = [
    {"source": ["aws.s3"]},
    {"source": ["AWS.GLUE"]},  # exact matching is case sensitive
    {"detail": {"state": ["SUCCEEDED"]}},
    {"detail": {"jobName": [{"prefix": "LOAD-"}]}},
    {"detail": {"jobName": [{"wildcard": "load-*x"}]}},
    {"detail": {"state": [{"anything-but": ["FAILED"]}]}},
    {"detail": {"state": [{"anything-but": {"prefix": "FAIL"}}]}},
    {"detail": {"missing": [{"anything-but": "x"}]}},  # anything-but needs the field
    {"detail": {"attempt": [{"numeric": [">", 2]}]}},
    {"detail": {"state": [{"numeric": [">", 0]}]}},  # not a number
    {"detail": {"message": [{"exists": False}]}},
    {"detail": {"missing": [{"exists": True}]}},
    {"detail": {"missing": [None]}},  # null matches a present null, not an absent field
    {"detail": {"ok": [0]}},  # false is not 0
    {"detail": {"jobName": {"nested": ["x"]}}},  # a string is not an object
    {"$or": [{"source": ["aws.s3"]}, {"detail": {"state": ["SUCCEEDED"]}}]},
]


@pytest.mark.parametrize("pattern", MATCHING, ids=[str(p) for p in MATCHING])
def test_matching_patterns(pattern: dict[str, Any]) -> None:
    assert matches(check_event_pattern(pattern), EVENT)


@pytest.mark.parametrize("pattern", NOT_MATCHING, ids=[str(p) for p in NOT_MATCHING])
def test_patterns_that_do_not_match(pattern: dict[str, Any]) -> None:
    assert not matches(check_event_pattern(pattern), EVENT)


BAD = [
    ({}, "non-empty JSON object"),
    ([], "non-empty JSON object"),
    ({"source": "aws.glue"}, "source: the value must be a list"),
    ({"source": []}, "source: an empty list"),
    ({"detail": {"state": [{"startswith": "F"}]}}, "detail.state: unknown matcher 'startswith'"),
    ({"detail": {"n": [{"numeric": [">>", 1]}]}}, "detail.n: \"numeric\": '>>'"),
    ({"detail": {"n": [{"numeric": [">", "1"]}]}}, "is not a number"),
    ({"detail": {"n": [{"numeric": [">"]}]}}, "one or two comparisons"),
    ({"detail": {"n": [{"exists": "yes"}]}}, "true or false"),
    ({"detail": {"n": [{"prefix": 1}]}}, '"prefix" takes a string'),
    ({"detail": {"n": [{"prefix": "a", "suffix": "b"}]}}, "one-key matcher"),
    ({"$or": [{"source": ["a"]}]}, "at least two patterns"),
    ({"detail": {}}, "detail: an empty object"),
]


@pytest.mark.parametrize(("pattern", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_patterns_name_the_field(pattern: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        check_event_pattern(pattern)
    assert message in info.value.message
    assert info.value.code == "InvalidEventPatternException"


def test_object_patterns() -> None:
    pattern = parse_object_pattern("bucket=lake,prefix=staging/spotify/,suffix=.csv")
    assert pattern.matches("lake", "staging/spotify/tracks.csv", "ObjectCreated:Put")
    assert pattern.matches("lake", "staging/spotify/a/b.csv", "ObjectCreated:CompleteMultipartUpload")
    assert not pattern.matches("lake", "staging/spotify/tracks.json", "ObjectCreated:Put")
    assert not pattern.matches("other", "staging/spotify/tracks.csv", "ObjectCreated:Put")
    assert not pattern.matches("lake", "staging/spotify/tracks.csv", "ObjectRemoved:Delete")
    removed = parse_object_pattern("prefix=x/,events=ObjectRemoved:*|ObjectCreated:Copy", default_bucket="lake")
    assert removed.bucket == "lake"
    assert removed.matches("lake", "x/1", "ObjectRemoved:Delete")
    assert removed.matches("lake", "x/1", "ObjectCreated:Copy")
    assert not removed.matches("lake", "x/1", "ObjectCreated:Put")
    assert parse_object_pattern(removed.to_dict()) == removed
    for bad, message in (
        ("prefix", "is not name=value"),
        ("colour=red", "unknown field 'colour'"),
        ("events=Created", "event name 'Created'"),
    ):
        with pytest.raises(InvalidInput, match=message):
            parse_object_pattern(bad)
