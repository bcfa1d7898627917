"""Trino datetime format strings, rewritten as DuckDB ``strftime``/``strptime`` formats.

Trino has two families: the MySQL-style ``%`` specifiers of ``date_format``/``date_parse`` and the Joda-Time
patterns of ``format_datetime``/``parse_datetime``. Each specifier maps to DuckDB only when DuckDB produces (or
accepts) exactly the text Trino does; anything else raises :class:`UnsupportedFormat` naming the specifier.
Formatting and parsing are decided separately, because DuckDB's ``strptime`` differs from its ``strftime``.

Things the caller (the SQL translator) still has to do, since no format string can express them:

* Trino rounds the timestamp to milliseconds before formatting; DuckDB formats the value as it is.
* Trino's parsers return millisecond precision (truncated); DuckDB keeps microseconds.
* Fields missing from a parse format default to 1970-01-01 in Trino but to 1900-01-01 in DuckDB.

When parsing, DuckDB is stricter in places (month and day names only in the form the specifier names, no ``Z``
for a zero offset, case-sensitive literal letters); such input fails instead of parsing differently.
"""

from __future__ import annotations

from lakeport.errors import InvalidInput

__all__ = ["UnsupportedFormat", "joda_format", "mysql_format"]


class UnsupportedFormat(InvalidInput):
    """A Trino datetime format that DuckDB cannot reproduce exactly."""

    default_code = "InvalidRequestException"


# One rule per specifier: (DuckDB strftime text, DuckDB strptime text, why a None direction is refused).
_Rule = tuple[str | None, str | None, str]

_NO_WEEK_PARSE = (
    "Trino and DuckDB pick different days for a week-based date without a weekday; "
    "parse a calendar date (year, month, day) instead"
)
_NO_SHORT_YEAR_PARSE = "Trino and DuckDB pick different centuries for two-digit years; parse a four-digit year"
_EMPTY = "DuckDB rejects an empty format string"

_MYSQL: dict[str, _Rule] = {
    "a": ("%a", "%a", ""),
    "b": ("%b", "%b", ""),
    "c": ("%-m", "%-m", ""),
    "d": ("%d", "%d", ""),
    "e": ("%-d", "%-d", ""),
    # Trino prints the milliseconds followed by 000 and parses 1 to 9 fraction digits.
    "f": ("%g000", "%n", ""),
    "H": ("%H", "%H", ""),
    "h": ("%I", "%I", ""),
    "I": ("%I", "%I", ""),
    "i": ("%M", "%M", ""),
    "j": ("%j", "%j", ""),
    "k": ("%-H", "%-H", ""),
    "l": ("%-I", "%-I", ""),
    "M": ("%B", "%B", ""),
    "m": ("%m", "%m", ""),
    "p": ("%p", "%p", ""),
    "r": ("%I:%M:%S %p", "%I:%M:%S %p", ""),
    "S": ("%S", "%S", ""),
    "s": ("%S", "%S", ""),
    "T": ("%H:%M:%S", "%H:%M:%S", ""),
    "v": ("%V", None, _NO_WEEK_PARSE),
    "W": ("%A", "%A", ""),
    "x": ("%G", None, _NO_WEEK_PARSE),
    "Y": ("%Y", "%Y", ""),
    "y": ("%y", None, _NO_SHORT_YEAR_PARSE),
    "%": ("%%", "%%", ""),
    "D": (None, None, "Trino rejects %D (day with English suffix) too"),
    "U": (None, None, "Trino rejects %U too; use week() for the ISO week"),
    "u": (None, None, "Trino rejects %u too; use week() for the ISO week"),
    "V": (None, None, "Trino rejects %V too; %v is the ISO week"),
    "w": (None, None, "Trino rejects %w too; use day_of_week() (1 = Monday .. 7 = Sunday)"),
    "X": (None, None, "Trino rejects %X too; %x is the ISO week year"),
}


def _refuse(function: str, spec: str, hint: str) -> UnsupportedFormat:
    return UnsupportedFormat(f"{function}: format specifier {spec!r} is not supported", hint=hint)


def _pick(rule: _Rule, spec: str, function: str, parsing: bool) -> str:
    text = rule[1] if parsing else rule[0]
    if text is None:
        raise _refuse(function, spec, rule[2])
    return text


def _finish(out: list[str], original: str, function: str) -> str:
    result = "".join(out)
    if not result:
        raise _refuse(function, original, _EMPTY)
    return result


def mysql_format(fmt: str, *, function: str, parsing: bool) -> str:
    """The DuckDB format for the ``date_format``/``date_parse`` format *fmt*.

    As in Trino, ``%`` before a character that is not a specifier stands for that character and a lone ``%`` at
    the end is dropped.
    """
    out: list[str] = []
    i = 0
    while i < len(fmt):
        char = fmt[i]
        if char != "%":
            out.append(char)
        elif i + 1 < len(fmt):
            i += 1
            rule = _MYSQL.get(fmt[i])
            if rule is None:
                out.append(fmt[i])
            else:
                out.append(_pick(rule, "%" + fmt[i], function, parsing))
        i += 1
    return _finish(out, fmt, function)


_JODA_HINTS = {
    "k": "DuckDB has no 1-24 clock hour; use 'H' or 'HH'",
    "K": "DuckDB has no 0-11 hour; use 'h' or 'hh' (1-12)",
    "G": "DuckDB has no era; write 'AD' as a quoted literal",
    "C": "DuckDB has no century of era",
    "z": "Joda cannot parse zone names, and DuckDB prints zone ids, not names",
    "Z": "DuckDB prints offsets as +01 or -03:30, unlike Joda's +0100 / +01:00 / zone id",
    "x": "DuckDB prints the ISO week year only as four digits ('xxxx') and cannot parse it like Trino",
    "w": "DuckDB prints the ISO week only as two digits ('ww') and cannot parse it like Trino",
    "e": "DuckDB has the ISO day of week only as one digit; use 'e'",
    "D": "DuckDB pads the day of year to three digits or not at all; use 'D' or 'DDD'",
    "S": "DuckDB prints milliseconds (SSS) and up to nine digits, not tenths or hundredths of a second",
}
_JODA_LETTERS = "GCYxwweEyDMdahHkKmsSzZ"
# Letters Joda reads as numbers; a year followed by one is parsed with exactly as many digits as letters.
_JODA_NUMERIC = "CYxwedDyhHkKmsS"


def _joda_rule(letter: str, count: int, before_number: bool) -> _Rule:
    """The rule for a run of *count* copies of the Joda pattern letter *letter*."""
    numeric = {"d": "d", "H": "H", "h": "I", "m": "M", "s": "S"}
    fixed: str | None = None
    if letter in numeric and count <= 2:
        fixed = ("%-", "%")[count - 1] + numeric[letter]
    elif letter == "M":
        fixed = ("%-m", "%m", "%b", "%B")[min(count, 4) - 1]
    elif letter == "E":
        fixed = "%A" if count >= 4 else "%a"
    elif letter == "a":
        fixed = "%p"
    elif letter == "e" and count == 1:
        fixed = "%u"
    if fixed is not None:
        return (fixed, fixed, "")
    if letter == "D" and count <= 3:
        return ({1: "%-j", 3: "%j"}.get(count), "%-j" if count == 1 else "%j", _JODA_HINTS["D"])
    if letter in "yY" and count == 2:
        return ("%y", None, _NO_SHORT_YEAR_PARSE)
    if letter in "yY":
        parse = "%Y" if count == 4 or (count < 4 and not before_number) else None
        return (
            "%Y" if count == 4 else None,
            parse,
            f"Joda reads and pads {letter * count!r} to {count} digits, DuckDB to four; use {letter * 4!r}",
        )
    if letter == "x" and count == 4:
        return ("%G", None, _NO_WEEK_PARSE)
    if letter == "w" and count == 2:
        return ("%V", None, _NO_WEEK_PARSE)
    if letter == "S" and count <= 9:
        parse = "%g" if count <= 3 else "%f" if count <= 6 else "%n"
        return ("%g" + "0" * (count - 3) if count >= 3 else None, parse, _JODA_HINTS["S"])
    if letter == "Z":
        return (None, "%z" if count <= 2 else "%Z", _JODA_HINTS["Z"])
    if letter in _JODA_HINTS:
        return (None, None, _JODA_HINTS[letter])
    if letter in _JODA_LETTERS:
        return (None, None, f"DuckDB cannot zero-pad {letter!r} to {count} digits; use one or two letters")
    return (None, None, "Trino rejects this pattern letter too (Joda: illegal pattern component)")


def joda_format(pattern: str, *, function: str, parsing: bool) -> str:
    """The DuckDB format for the ``format_datetime``/``parse_datetime`` Joda-Time *pattern*.

    ASCII letters are pattern letters; text inside single quotes and every other character is literal, and
    ``''`` (inside or outside quotes) is one quote. A quote left open runs to the end, as in Joda.
    """
    out: list[str] = []
    quoted = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "'":
            if pattern.startswith("''", i):
                out.append("'")
                i += 2
            else:
                quoted = not quoted
                i += 1
        elif quoted or not ("a" <= char <= "z" or "A" <= char <= "Z"):
            out.append("%%" if char == "%" else char)
            i += 1
        else:
            end = i
            while end < len(pattern) and pattern[end] == char:
                end += 1
            token, after = pattern[i:end], pattern[end : end + 1]
            before_number = after != "" and (
                after in _JODA_NUMERIC or (after == "M" and not pattern.startswith("MMM", end))
            )
            out.append(_pick(_joda_rule(char, len(token), before_number), token, function, parsing))
            i = end
    return _finish(out, pattern, function)
