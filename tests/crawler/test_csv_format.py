"""Delimited text: dialect, header, names, types and warnings, checked against the documented rules."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lakeport.crawler.csv_format import CANDIDATE_DELIMITERS, normalize_names, sniff_csv
from lakeport.crawler.values import NULL_MARKERS
from lakeport.errors import InvalidInput

ARTISTS = """\
id,name,artist_popularity,artist_genres,followers,genre_0,genre_1,genre_2,genre_3,genre_4,genre_5,genre_6
06HL4z0CvFAxyc27GXpf02,Taylor Swift,100,"['pop']",86427349,pop,,,,,,
3TVXtAsR1Inumwj472S9r4,Drake,95,"['canadian hip hop', 'hip hop', 'rap', 'toronto rap']",75712356,canadian hip hop,hip hop,rap,toronto rap,,,
4q3ewBCX7sLwd24euuV69X,Bad Bunny,95,"['reggaeton', 'trap latino', 'urbano latino']",71919337,reggaeton,trap latino,urbano latino,,,,
1Xyo4u8uXC1ZmMpatF05PJ,The Weeknd,93,"['canadian contemporary r&b', 'canadian pop', 'pop']",82021296,canadian contemporary r&b,canadian pop,pop,,,,
0fcGoGtmk0dpMXdQAdXPat,,0,[],0,,,,,,,
"""

TRACKS = """\
id,track_popularity,explicit
4iV5W9uYEdYUVa79Axb7Rh,57,false
1301WleyT98MSxVHPZCA6M,0,false
0DiWol3AO6WpXZgp0goxAV,66,true
6zJyUr9Ri0xvjqDbDP3Yve,10,false
"""

ALBUMS = """\
track_name,track_id,duration_ms,album_name,release_date,label,album_popularity,album_id,artist_id,duration_sec
Anti-Hero,0V3wPSX9ygBnCm8psDIegu,200690,Midnights,2022-10-21 00:00:00 UTC,Taylor Swift,90,151w1FgRZfnKZA9FEcg9Z3,06HL4z0CvFAxyc27GXpf02,200.69
"Tokyo, Night",5JzKxA4s2cmObcrQ4ZrTV2,555521,"Night Drive, Vol. 2",2015-06-09 00:00:00 UTC,Nite Records,12,3b4sg8yXcP5C1lGfLGy9ip,1uNFoZAHBGtllmzznpCI3s,555.521
Intro,3zJXkRQhrYzXtCKFsNPjhM,216000,Intro,2019-01-01 00:00:00 UTC,,0,6O6GdDQ0XnQXGFmzPphOzC,2sDMXH6fDPv7RCaNeCCRbg,216
"""


def _cols(text: str, null_markers: frozenset[str] = NULL_MARKERS) -> list[tuple[str, str]]:
    return sniff_csv(text, truncated=False, null_markers=null_markers).columns


# --- the Spotify files ---------------------------------------------------------------------------------


def test_spotify_artists() -> None:
    shape = sniff_csv(ARTISTS, truncated=False)
    assert shape.delimiter == ","
    assert shape.quote == '"'
    assert shape.escape is None
    assert shape.has_header
    assert shape.columns == [
        ("id", "string"),
        ("name", "string"),
        ("artist_popularity", "bigint"),
        ("artist_genres", "string"),
        ("followers", "bigint"),
        ("genre_0", "string"),
        ("genre_1", "string"),
        ("genre_2", "string"),
        ("genre_3", "string"),
        ("genre_4", "string"),
        ("genre_5", "string"),
        ("genre_6", "string"),
    ]
    assert shape.rows_sampled == 5
    assert not shape.multiline
    assert shape.timestamp_formats == {}
    assert shape.warnings == []


def test_spotify_tracks() -> None:
    shape = sniff_csv(TRACKS, truncated=False)
    assert shape.has_header
    assert shape.columns == [("id", "string"), ("track_popularity", "bigint"), ("explicit", "boolean")]
    assert shape.rows_sampled == 4


def test_spotify_albums_with_bigquery_timestamps() -> None:
    shape = sniff_csv(ALBUMS, truncated=False)
    assert shape.has_header
    assert shape.columns == [
        ("track_name", "string"),
        ("track_id", "string"),
        ("duration_ms", "bigint"),
        ("album_name", "string"),
        ("release_date", "timestamp"),
        ("label", "string"),
        ("album_popularity", "bigint"),
        ("album_id", "string"),
        ("artist_id", "string"),
        ("duration_sec", "double"),
    ]
    assert shape.timestamp_formats == {"release_date": "%Y-%m-%d %H:%M:%S UTC"}
    assert shape.warnings == []


def test_spotify_files_written_to_disk_with_crlf(tmp_path: Path) -> None:
    path = tmp_path / "spotify_tracks_data_2023.csv"
    path.write_text(TRACKS, newline="\r\n")
    shape = sniff_csv(path.read_bytes().decode("utf-8", errors="replace"), truncated=False)
    assert shape.columns == [("id", "string"), ("track_popularity", "bigint"), ("explicit", "boolean")]
    assert shape.rows_sampled == 4
    assert not shape.multiline


# --- delimiters, quotes, escapes -----------------------------------------------------------------------


@pytest.mark.parametrize(("delimiter"), [";", "\t", "|", "\x01", ","])
def test_each_candidate_delimiter(delimiter: str) -> None:
    rows = [["city", "population", "area"], ["Paris", "2102650", "105.4"], ["Oslo", "709037", "454.0"]]
    text = "".join(delimiter.join(row) + "\n" for row in rows)
    shape = sniff_csv(text, truncated=False)
    assert shape.delimiter == delimiter
    assert shape.columns == [("city", "string"), ("population", "bigint"), ("area", "double")]


def test_european_semicolon_file_with_decimal_commas_keeps_them_as_strings() -> None:
    text = "produit;prix;quantite\npomme;1,20;3\npoire;0,95;10\n"
    shape = sniff_csv(text, truncated=False)
    assert shape.delimiter == ";"
    assert shape.columns == [("produit", "string"), ("prix", "string"), ("quantite", "bigint")]


def test_consistency_beats_candidate_order() -> None:
    # commas appear inside a field, but only the pipe splits every record the same way
    text = "name|note|n\nAl|a, b, c|1\nBo|x|2\nCy|y, z|3\n"
    shape = sniff_csv(text, truncated=False)
    assert shape.delimiter == "|"
    assert shape.columns == [("name", "string"), ("note", "string"), ("n", "bigint")]


def test_quoted_fields_with_delimiters_and_newlines() -> None:
    text = 'id,comment,score\n1,"hello, world",5\n2,"multi\nline, with ""quotes""\ntext",7\n3,plain,8\n'
    shape = sniff_csv(text, truncated=False)
    assert shape.delimiter == ","
    assert shape.multiline
    assert shape.warnings == []
    assert shape.rows_sampled == 3
    assert shape.columns == [("id", "bigint"), ("comment", "string"), ("score", "bigint")]


def test_single_quote_as_quote_character() -> None:
    text = "name,tags,n\n'Smith, John','a,b',1\n'Doe, Jane','c',2\n"
    shape = sniff_csv(text, truncated=False)
    assert shape.quote == "'"
    assert shape.columns == [("name", "string"), ("tags", "string"), ("n", "bigint")]
    assert shape.warnings == []


def test_apostrophes_do_not_switch_the_quote() -> None:
    text = "name,n\nO'Brien,1\n\"Smith, 'Jr'\",2\nit's,3\n"
    shape = sniff_csv(text, truncated=False)
    assert shape.quote == '"'
    assert shape.columns == [("name", "string"), ("n", "bigint")]


def test_backslash_escape_detected() -> None:
    text = 'id,text\n1,"say \\"hi\\", please"\n2,a\\,b\n3,plain\n'
    shape = sniff_csv(text, truncated=False)
    assert shape.escape == "\\"
    assert shape.columns == [("id", "bigint"), ("text", "string")]
    assert shape.warnings == []


def test_no_escape_without_backslashes() -> None:
    assert sniff_csv("a,b\n1,x\\y\n", truncated=False).escape is None


def test_given_delimiter_and_quote_are_used() -> None:
    text = "a;b,c\n1;2,3\n4;5,6\n"
    assert sniff_csv(text, truncated=False).delimiter == ","
    shape = sniff_csv(text, truncated=False, delimiter=";")
    assert shape.delimiter == ";"
    assert shape.columns == [("a", "bigint"), ("b_c", "string")]
    with pytest.raises(InvalidInput, match="delimiter"):
        sniff_csv(text, truncated=False, delimiter=";;")


def test_hive_ctrl_a_file_without_header() -> None:
    text = "1\x01alpha\x012023-01-05\n2\x01beta\x01\\N\n3\x01gamma\x012023-01-07\n"
    shape = sniff_csv(text, truncated=False)
    assert shape.delimiter == "\x01"
    assert not shape.has_header
    assert shape.columns == [("col0", "bigint"), ("col1", "string"), ("col2", "date")]


def test_bom_is_ignored() -> None:
    shape = sniff_csv("\ufeffid,n\na,1\nb,2\n", truncated=False)
    assert shape.columns == [("id", "string"), ("n", "bigint")]


# --- header ---------------------------------------------------------------------------------------------


def test_numeric_file_without_header() -> None:
    shape = sniff_csv("1,2.5,true\n3,4.5,false\n5,6,true\n", truncated=False)
    assert not shape.has_header
    assert shape.rows_sampled == 3
    assert shape.columns == [("col0", "bigint"), ("col1", "double"), ("col2", "boolean")]


def test_all_string_file_with_header_lakeport_extension() -> None:
    text = "first_name,City,Favourite Colour\nAlice,Paris,blue\nBob,Oslo,red\nAlice,Rome,blue\n"
    shape = sniff_csv(text, truncated=False)
    assert shape.has_header
    assert shape.rows_sampled == 3
    assert shape.columns == [("first_name", "string"), ("city", "string"), ("favourite_colour", "string")]


def test_all_string_file_without_header_where_the_first_row_repeats() -> None:
    text = "Alice,Paris\nBob,Oslo\nalice,Rome\nCarol,Paris\n"
    shape = sniff_csv(text, truncated=False)
    assert not shape.has_header
    assert shape.rows_sampled == 4
    assert shape.columns == [("col0", "string"), ("col1", "string")]


def test_all_string_first_row_that_is_not_name_like_is_data() -> None:
    text = "Paris (FR),Oslo/NO\nRome,Bern\n"
    assert not sniff_csv(text, truncated=False).has_header


def test_duplicate_header_values_are_not_a_lakeport_header() -> None:
    text = "name,Name\nAlice,Bob\nCarol,Dave\n"
    assert not sniff_csv(text, truncated=False).has_header


def test_boolean_looking_first_row_is_data() -> None:
    text = "abc,true\nxyz,false\n"
    shape = sniff_csv(text, truncated=False)
    assert not shape.has_header
    assert shape.columns == [("col0", "string"), ("col1", "boolean")]


def test_header_with_a_number_is_data() -> None:
    text = "id,2023\n1,5\n2,6\n"
    shape = sniff_csv(text, truncated=False)
    assert not shape.has_header
    assert shape.columns == [("col0", "string"), ("col1", "bigint")]


def test_long_header_value_is_not_a_glue_header() -> None:
    long_name = "x" * 150
    text = f"{long_name},n\na,1\nb,2\n"
    shape = sniff_csv(text, truncated=False)
    assert not shape.has_header
    assert shape.columns == [("col0", "string"), ("col1", "string")]
    shorter = "x" * 149
    assert sniff_csv(f"{shorter},n\na,1\nb,2\n", truncated=False).has_header


def test_trailing_delimiter_leaves_an_empty_last_header_value() -> None:
    text = "a,b,\n1,x,\n2,y,\n"
    shape = sniff_csv(text, truncated=False)
    assert shape.has_header
    assert shape.columns == [("a", "bigint"), ("b", "string"), ("col2", "string")]


def test_header_forced() -> None:
    numbers = "1,2\n3,4\n"
    shape = sniff_csv(numbers, truncated=False, header="present")
    assert shape.has_header
    assert shape.columns == [("1", "bigint"), ("2", "bigint")]
    assert shape.rows_sampled == 1
    shape = sniff_csv(TRACKS, truncated=False, header="absent")
    assert not shape.has_header
    assert shape.columns == [("col0", "string"), ("col1", "string"), ("col2", "string")]
    assert shape.rows_sampled == 5
    with pytest.raises(InvalidInput, match="header"):
        sniff_csv(numbers, truncated=False, header="yes")


def test_forced_header_shorter_than_the_rows_is_completed() -> None:
    shape = sniff_csv("a\n1,2\n3,4\n", truncated=False, header="present")
    assert shape.columns == [("a", "bigint"), ("col1", "bigint")]
    assert shape.warnings == ["line 1: 1 fields, expected 2"]


def test_single_record_of_names_is_the_header_of_an_empty_table() -> None:
    shape = sniff_csv("id,name,price\n", truncated=False)
    assert shape.has_header
    assert shape.rows_sampled == 0
    assert shape.columns == [("id", "string"), ("name", "string"), ("price", "string")]


# --- names ----------------------------------------------------------------------------------------------


def test_names_are_normalized_like_glue() -> None:
    text = " Track Name ,track-id,ID,id,Prix (€),id_1\nx,y,1,2,3,4\nz,w,5,6,7,8\n"
    shape = sniff_csv(text, truncated=False)
    assert shape.has_header
    assert [name for name, _ in shape.columns] == ["track_name", "track_id", "id", "id_1", "prix____", "id_1_1"]


def test_an_empty_header_value_is_not_a_glue_header_but_can_be_forced() -> None:
    text = "a,,c\nx,1,2\ny,3,4\n"
    assert not sniff_csv(text, truncated=False).has_header
    shape = sniff_csv(text, truncated=False, header="present")
    assert shape.columns == [("a", "string"), ("col1", "bigint"), ("c", "bigint")]


def test_normalize_names() -> None:
    assert normalize_names(["A", "a", "a", "A_1"], 5) == ["a", "a_1", "a_2", "a_1_1", "col4"]
    assert normalize_names(["col1", ""], 2) == ["col1", "col1_1"]


# --- sampling -------------------------------------------------------------------------------------------


def test_truncated_sample_drops_its_last_record() -> None:
    text = "id,n\na,1\nb,2\nc,3x"  # the sample stops in the middle of "c,3xyz"
    shape = sniff_csv(text, truncated=True)
    assert shape.rows_sampled == 2
    assert shape.columns == [("id", "string"), ("n", "bigint")]
    whole = sniff_csv(text, truncated=False)
    assert whole.rows_sampled == 3
    assert whole.columns == [("id", "string"), ("n", "string")]


def test_truncated_sample_cut_inside_a_quoted_field() -> None:
    text = 'id,n,note\na,1,x\nb,2,"a long\nnote that goes o'
    shape = sniff_csv(text, truncated=True)
    assert shape.rows_sampled == 1
    assert not shape.multiline
    assert shape.warnings == []


def test_truncated_single_record_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="no complete record"):
        sniff_csv("a,b,c,d", truncated=True)


def test_max_rows_limits_the_data_examined() -> None:
    text = "id,n\na,1\nb,2\nc,x\nd,4\n"
    shape = sniff_csv(text, truncated=False, max_rows=2)
    assert shape.rows_sampled == 2
    assert shape.columns == [("id", "string"), ("n", "bigint")]
    shape = sniff_csv("1,2\n3,4\n5,x\n", truncated=False, max_rows=2)
    assert not shape.has_header
    assert shape.rows_sampled == 2
    assert shape.columns == [("col0", "bigint"), ("col1", "bigint")]


def test_max_rows_is_not_confused_with_truncation() -> None:
    # the record after the limit is the one a truncated sample would drop; the limit's records stay
    shape = sniff_csv("id,n\na,1\nb,2\nc,3", truncated=True, max_rows=2)
    assert shape.rows_sampled == 2


def test_nulls_do_not_decide_a_type() -> None:
    text = "a,b,c,d\n1,\\N,,x\n,2.5,,y\n3,\\N,,\n"
    assert _cols(text) == [("a", "bigint"), ("b", "double"), ("c", "string"), ("d", "string")]
    assert _cols(text, null_markers=frozenset({"", "\\N", "x", "y"}))[3] == ("d", "string")
    text2 = "a,b\n1,NULL\n2,5\n"
    assert _cols(text2) == [("a", "bigint"), ("b", "string")]
    assert _cols(text2, null_markers=frozenset({"NULL"})) == [("a", "bigint"), ("b", "bigint")]


def test_blank_lines_are_skipped() -> None:
    shape = sniff_csv("id,n\n\na,1\n\n\nb,2\n\n", truncated=False)
    assert shape.rows_sampled == 2
    assert shape.warnings == []


# --- ragged rows ----------------------------------------------------------------------------------------


def test_ragged_rows_warn_with_physical_line_numbers() -> None:
    text = (
        "id,comment,score\n"  # line 1
        '1,"hello, world",5\n'  # line 2
        '2,"multi\nline\ntext",7\n'  # lines 3-5
        "3,short\n"  # line 6: one field missing
        '4,"x",8,extra\n'  # line 7: one field too many
        "5,fine,9\n"  # line 8
    )
    shape = sniff_csv(text, truncated=False)
    assert shape.warnings == ["line 6: 2 fields, expected 3", "line 7: 4 fields, expected 3"]
    assert shape.multiline
    assert shape.rows_sampled == 5
    assert shape.columns == [("id", "bigint"), ("comment", "string"), ("score", "bigint")]


def test_ragged_warnings_are_capped() -> None:
    lines = ["a,b,c"] + [f"{i},{i},{i}" for i in range(20)] + [f"{i},{i}" for i in range(15)]
    text = "\n".join(lines) + "\n"
    shape = sniff_csv(text, truncated=False)
    assert len(shape.warnings) == 11
    assert shape.warnings[0] == "line 22: 2 fields, expected 3"
    assert shape.warnings[9] == "line 31: 2 fields, expected 3"
    assert shape.warnings[10].startswith("… and 5 more")
    assert shape.columns == [("a", "bigint"), ("b", "bigint"), ("c", "bigint")]


# --- not delimited text ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n\t\n", "\ufeff"])
def test_empty_input(text: str) -> None:
    with pytest.raises(InvalidInput, match="empty file"):
        sniff_csv(text, truncated=False)


def test_binary_junk_is_not_text() -> None:
    gzip_like = bytes([0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]) + bytes(range(256)) * 4
    with pytest.raises(InvalidInput, match="not text"):
        sniff_csv(gzip_like.decode("utf-8", errors="replace"), truncated=True)
    without_nul = bytes(b for b in bytes(range(256)) * 8 if b) + b",,\n"
    with pytest.raises(InvalidInput, match="not text"):
        sniff_csv(without_nul.decode("utf-8", errors="replace"), truncated=False)


def test_a_few_replacement_characters_are_fine() -> None:
    latin1 = "name,n\nJosé,1\nRenée,2\nZoë,3\n".encode("latin-1").decode("utf-8", errors="replace")
    shape = sniff_csv(latin1, truncated=False)
    assert shape.columns == [("name", "string"), ("n", "bigint")]


def test_prose_has_no_delimiter() -> None:
    text = (
        "It was the best of times, it was the worst of times, it was the age of wisdom,\n"
        "it was the age of foolishness, it was the epoch of belief\n"
        "it was the epoch of incredulity; it was the season of Light\n"
        "it was the season of Darkness | it was the spring of hope, it was the winter of despair,\n"
        "we had everything before us\n"
        "we had nothing before us, we were all going direct to Heaven\n"
    )
    with pytest.raises(InvalidInput, match="no delimiter found"):
        sniff_csv(text, truncated=False)


def test_single_column_file_is_legitimate() -> None:
    shape = sniff_csv("email\nann@example.com\nbob@example.com\n", truncated=False)
    assert shape.has_header
    assert shape.columns == [("email", "string")]
    shape = sniff_csv("5\n7\n11\n", truncated=False)
    assert not shape.has_header
    assert shape.columns == [("col0", "bigint")]
    assert shape.delimiter == ","


# --- round trip -----------------------------------------------------------------------------------------

WORD = st.text(alphabet="abcdeghijklmnopqrsuvwxyz", min_size=1, max_size=8)  # no t/f: never true/false, inf
VALUES: dict[str, st.SearchStrategy[str]] = {
    "bigint": st.integers(min_value=-(10**15), max_value=10**15).map(str),
    "double": st.floats(allow_nan=False, allow_infinity=False).map(repr),
    "boolean": st.sampled_from(["true", "false", "TRUE", "False"]),
    "date": st.dates(min_value=dt.date(1, 1, 1)).map(dt.date.isoformat),
    "string": WORD,
}
NAMES = st.lists(st.from_regex(r"h_[a-z0-9_]{0,10}", fullmatch=True), min_size=2, max_size=6, unique=True)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[str], list[list[str]]]:
    names = draw(NAMES)
    kinds = [draw(st.sampled_from(sorted(VALUES))) for _ in names]
    n_rows = draw(st.integers(min_value=1, max_value=30))
    rows = [[draw(VALUES[kind]) for kind in kinds] for _ in range(n_rows)]
    return names, kinds, rows


def _write(delimiter: str, rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerows(rows)
    return out.getvalue()


@settings(max_examples=150, deadline=None)
@given(tables(), st.sampled_from(CANDIDATE_DELIMITERS))
def test_random_tables_round_trip(table: tuple[list[str], list[str], list[list[str]]], delimiter: str) -> None:
    names, kinds, rows = table
    shape = sniff_csv(_write(delimiter, [names, *rows]), truncated=False)
    assert shape.delimiter == delimiter
    assert shape.quote == '"'
    assert shape.has_header
    assert shape.columns == list(zip(names, kinds, strict=True))
    assert shape.rows_sampled == len(rows)
    assert shape.warnings == []
    assert not shape.multiline


@settings(max_examples=100, deadline=None)
@given(tables(), st.sampled_from(CANDIDATE_DELIMITERS))
def test_random_tables_without_header(table: tuple[list[str], list[str], list[list[str]]], delimiter: str) -> None:
    _, kinds, rows = table
    if all(kind == "string" for kind in kinds):
        kinds, rows = ["bigint", *kinds], [["1", *row] for row in rows]
    shape = sniff_csv(_write(delimiter, rows), truncated=False)
    assert shape.delimiter == delimiter
    assert not shape.has_header
    assert shape.columns == [(f"col{i}", kind) for i, kind in enumerate(kinds)]
    assert shape.rows_sampled == len(rows)
