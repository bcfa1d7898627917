"""The classifiers' verdict on text that is not plain UTF-8 CSV or JSON: UTF-16, Latin-1 bytes in UTF-8 text,
JSON lines mixed with a JSON array — each cataloged or skipped with a reason that says what is wrong and where."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime

from lakeport.crawler.classifiers import ClassifierOptions, classify
from lakeport.crawler.sampling import Sample
from lakeport.storage.objects import ObjectInfo


def sample(data: bytes, *, truncated: bool = False, key: str = "staging/x/f.csv") -> Sample:
    info = ObjectInfo("lakeport", key, len(data) + (100 if truncated else 0), "etag", datetime.now(UTC))
    return Sample(info, data[:64], data, truncated, None, len(data), lambda start, end: data[start : end + 1])


def test_utf16_text_is_skipped_with_the_encoding_named_not_called_binary() -> None:
    data = codecs.BOM_UTF16_LE + "id,name\n1,caf\u00e9\n2,\u65e5\u672c\n".encode("utf-16-le")

    verdict = classify(sample(data), ClassifierOptions())

    assert verdict.shape is None
    assert verdict.reason.startswith("UTF-16 text (it starts with a UTF-16 byte order mark)")
    assert "convert it to UTF-8" in verdict.reason
    assert "binary" not in verdict.reason


def test_latin1_bytes_in_a_csv_are_cataloged_with_a_warning_naming_the_line_and_column() -> None:
    data = "id,name\n1,ok\n2,caf\u00e9\n".encode("latin-1")

    verdict = classify(sample(data), ClassifierOptions())

    assert verdict.shape is not None
    assert verdict.shape.classification == "csv"
    assert verdict.shape.columns == (("id", "bigint"), ("name", "string"))
    assert verdict.shape.notes == (
        "line 3, column 6: not UTF-8 text (byte 0xE9); queries and jobs read text as UTF-8 and will fail on it: "
        "convert the file to UTF-8",
    )


def test_a_utf8_character_cut_by_the_end_of_the_sample_is_no_encoding_problem() -> None:
    data = "id,name\n1,\u65e5\u672c\n".encode()[:-2]  # the sample stops inside the last character

    verdict = classify(sample(data, truncated=True), ClassifierOptions())

    assert verdict.shape is not None
    assert verdict.shape.notes == ()


def test_json_lines_mixed_with_an_array_stay_json_when_the_csv_sniffer_gives_up() -> None:
    data = b'{"a": 1}\n[{"a": 2}, {"a": 3}]\n'

    verdict = classify(sample(data, key="staging/x/f.json"), ClassifierOptions())

    assert verdict.shape is not None
    assert verdict.shape.classification == "json"
    assert verdict.shape.columns == (("a", "bigint"),)
    assert verdict.shape.notes == ("line 2: not a JSON object (array)",)


def test_a_file_no_classifier_recognizes_still_gets_the_reason_of_the_one_that_refused_it() -> None:
    verdict = classify(sample(b"\x00\x01\x02\x03binary junk\x00\n" * 4), ClassifierOptions())

    assert verdict.shape is None
    assert "NUL characters" in verdict.reason
