"""Hive-style partition folder paths: escaping, building, parsing and typing them.

A partitioned table keeps its data in one folder per partition, one folder level per partition key::

    sales/year=2020/month=01/part-0000.parquet

Each level is a *segment* ``key=value``. Keys and values are escaped the way Hive's ``FileUtils`` does it so
that a value may hold any text, including ``/`` and ``=``:

* every code point below U+0080 that is a control character (U+0000..U+001F and U+007F) or one of
  ``" # % ' * / : = ? \\ { [ ] ^`` is written as ``%XX``, a percent sign and two uppercase hex digits;
* every other character, including all non-ASCII text and the space, is written as is.

Hive writes a null value *and* an empty-string value as the folder name ``__HIVE_DEFAULT_PARTITION__``
(:data:`DEFAULT_PARTITION_NAME`); reading such a folder gives back a null (``None``).

Folder trees written by other tools often have unnamed levels (``sales/2020/01/...``). Such a segment parses
to ``(None, value)`` and the crawler names the key ``partition_<i>``, as Glue does (see
:func:`partition_key_names`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date

from lakeport.errors import InvalidInput

DEFAULT_PARTITION_NAME = "__HIVE_DEFAULT_PARTITION__"
"""The folder name Hive writes for a null or empty partition value."""

_ESCAPED_CODE_POINTS: frozenset[int] = frozenset([*range(0x00, 0x20), 0x7F, *(ord(c) for c in "\"#%'*/:=?\\{[]^")])
_ESCAPE_TABLE: dict[int, str] = {cp: f"%{cp:02X}" for cp in _ESCAPED_CODE_POINTS}
_PERCENT_HEX = re.compile(r"%([0-9A-Fa-f]{2})")

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_DATE_TEXT = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def escape_path_name(value: str) -> str:
    """Escape ``value`` for use as (half of) a partition folder name.

    The characters listed in the module docstring become ``%XX`` (uppercase hex); everything else is kept.
    The empty string stays empty: turning an empty *value* into :data:`DEFAULT_PARTITION_NAME` is the job of
    :func:`partition_segment`, so that ``unescape_path_name(escape_path_name(s)) == s`` holds for every ``s``.
    The result never contains ``/``, ``=`` or a ``%`` that is not the start of an escape.
    """
    return value.translate(_ESCAPE_TABLE)


def unescape_path_name(text: str) -> str:
    """Undo :func:`escape_path_name`: decode every ``%XX`` where ``XX`` are two hex digits (any case).

    A ``%`` that is not followed by two hex digits is kept as is, so hand-made folder names such as
    ``100%`` or ``50%off`` read back unchanged.
    """
    if "%" not in text:
        return text
    return _PERCENT_HEX.sub(lambda m: chr(int(m.group(1), 16)), text)


def partition_segment(key: str, value: str | None) -> str:
    """One folder level, ``escape(key)=escape(value)``.

    A ``None`` or empty ``value`` is written as :data:`DEFAULT_PARTITION_NAME`, as Hive does. An empty key is
    refused (:class:`~lakeport.errors.InvalidInput`), since ``=value`` would read back as an unnamed level.
    """
    if not key:
        raise InvalidInput(
            f"empty partition key in partition segment for value {value!r}",
            hint="every partition key needs a name",
        )
    escaped_value = DEFAULT_PARTITION_NAME if value is None or value == "" else escape_path_name(value)
    return f"{escape_path_name(key)}={escaped_value}"


def partition_path(keys: Sequence[str], values: Sequence[str | None]) -> str:
    """The relative folder path of one partition: its segments joined with ``/``, without a trailing slash.

    ``partition_path(["year", "month"], ["2020", "01"]) == "year=2020/month=01"``. No keys give ``""`` (the
    table's own folder). ``keys`` and ``values`` must have the same length.
    """
    if len(keys) != len(values):
        raise InvalidInput(
            f"partition path needs one value per key: got {len(keys)} keys ({', '.join(keys)}) "
            f"and {len(values)} values",
            hint="pass exactly one value (or None) for every partition key",
        )
    return "/".join(partition_segment(key, value) for key, value in zip(keys, values, strict=True))


def parse_segment(segment: str) -> tuple[str | None, str | None]:
    """Read one folder level back as ``(key, value)``; ``key`` is ``None`` for an unnamed level.

    Rules, in order:

    * no ``=`` at all (``2020``) → ``(None, unescape(segment))``, an unnamed level;
    * the segment is split at its *first* ``=`` (escaped names never contain a raw ``=``, so for folders
      Hive wrote this is exact; for hand-made ones ``expr=a=b`` gives key ``expr`` and value ``a=b``);
    * an empty key (``=v``) → ``(None, unescape(segment))``: there is no name, so it is an unnamed level
      whose value is the whole folder name;
    * a value of :data:`DEFAULT_PARTITION_NAME` → ``(key, None)``;
    * an empty value (``k=``) → ``(key, "")``. Hive never writes this (it writes the default partition
      instead); the empty string is kept so that callers can tell the two apart, and callers that want Hive
      semantics should treat ``""`` like ``None``.

    Key and value are unescaped with :func:`unescape_path_name`; the key keeps its case.
    """
    raw_key, sep, raw_value = segment.partition("=")
    if not sep or not raw_key:
        return None, unescape_path_name(segment)
    key = unescape_path_name(raw_key)
    if raw_value == DEFAULT_PARTITION_NAME:
        return key, None
    return key, unescape_path_name(raw_value)


def parse_partition_path(path: str) -> list[tuple[str | None, str | None]]:
    """Parse a relative folder path such as ``year=2020/month=01`` into one ``(key, value)`` per level.

    Leading and trailing slashes are ignored; ``""`` (or ``"/"``) gives ``[]``. An empty level in the middle
    (``year=2020//month=01``) is refused with :class:`~lakeport.errors.InvalidInput` naming its position,
    since it would silently shift every later level. Each level is read with :func:`parse_segment`.
    """
    stripped = path.strip("/")
    if not stripped:
        return []
    segments = stripped.split("/")
    for index, segment in enumerate(segments):
        if not segment:
            raise InvalidInput(
                f"empty folder level {index + 1} in partition path {path!r}",
                hint="partition paths look like key=value/key=value, with no '//'",
            )
    return [parse_segment(segment) for segment in segments]


def _is_bigint(text: str) -> bool:
    return _INTEGER_TEXT.fullmatch(text) is not None and _INT64_MIN <= int(text) <= _INT64_MAX


def _is_date(text: str) -> bool:
    match = _DATE_TEXT.fullmatch(text)
    if match is None:
        return False
    try:
        date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return False
    return True


def infer_partition_type(values: Iterable[str | None]) -> str:
    """The Hive type name for a partition key, from the values of all its folders.

    Nulls (``None``) and empty strings are ignored (Hive stores both as the null partition, so they say
    nothing about the type). Of the remaining values:

    * ``bigint`` if every one is an ASCII integer with an optional ``+``/``-`` sign that fits in 64 bits;
      leading zeros are allowed (``month=01`` is the usual Hive layout);
    * ``date`` if every one is a valid calendar date written exactly ``YYYY-MM-DD``;
    * ``string`` otherwise, and also when no value is left (all null).
    """
    seen = [v for v in values if v is not None and v != ""]
    if not seen:
        return "string"
    if all(_is_bigint(v) for v in seen):
        return "bigint"
    if all(_is_date(v) for v in seen):
        return "date"
    return "string"


def partition_key_names(levels: Sequence[Sequence[str | None]]) -> list[str]:
    """The column name of each partition key, from the keys seen at each folder level.

    ``levels[i]`` holds, for every partition folder at depth ``i``, the key its segment named (``None`` for an
    unnamed level such as ``2020``). For each level, in order:

    * if the level has folders, every one is named, and all use the same key (compared after lowercasing) →
      that key in lowercase (Glue lowercases column names);
    * otherwise (an unnamed folder, keys that differ, or no folders) → ``partition_<i>``, ``i`` 0-based;
    * a named key equal to a name already given to an earlier level also falls back to ``partition_<i>``;
    * should ``partition_<i>`` itself be taken already (an earlier folder was literally named so), the
      first free ``partition_<i>_<n>``, ``n = 1, 2, ...``, is used instead.

    The returned names are therefore always unique.
    """
    names: list[str] = []
    used: set[str] = set()
    for index, keys in enumerate(levels):
        name: str | None = None
        if keys and all(k is not None for k in keys):
            lowered = {k.lower() for k in keys if k is not None}
            if len(lowered) == 1:
                (candidate,) = lowered
                if candidate not in used:
                    name = candidate
        if name is None:
            name = f"partition_{index}"
            suffix = 0
            while name in used:
                suffix += 1
                name = f"partition_{index}_{suffix}"
        names.append(name)
        used.add(name)
    return names


__all__ = [
    "DEFAULT_PARTITION_NAME",
    "escape_path_name",
    "infer_partition_type",
    "parse_partition_path",
    "parse_segment",
    "partition_key_names",
    "partition_path",
    "partition_segment",
    "unescape_path_name",
]
