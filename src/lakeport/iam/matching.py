"""Wildcards, ARN matching and policy variables: the string matching under IAM policy evaluation.

Three pattern dialects, all compiled to regular expressions once and cached:

* **actions** (``s3:Get*``): ``*`` and ``?`` anywhere, matched case-insensitively over the whole name;
* **resources** (``arn:aws:s3:::bucket/*``): case-sensitive; ``*`` and ``?`` match within an ARN segment (the parts
  between colons), a ``*`` that ends a segment may also run across colons, and ``/`` is an ordinary character;
* **ARN conditions** (``ArnLike``): the six colon-separated components are compared one by one, each with ``*``/``?``.

Policy variables (``${aws:username}``, ``${aws:PrincipalTag/team, 'none'}``) and the escapes ``${*}``, ``${?}`` and
``${$}`` are parsed into a :class:`Template`; substituted text is always literal (a ``*`` in a user name is not a
wildcard).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

ContextValue = str | Sequence[str] | None
Context = Mapping[str, ContextValue]

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_VARIABLE_BODY = re.compile(r"^\s*([A-Za-z0-9_.:/+=@-]+)\s*(?:,\s*'([^']*)'\s*)?$")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


class TemplateError(ValueError):
    """A malformed ``${...}`` in a policy string."""


@dataclass(frozen=True)
class Part:
    """One piece of a template: pattern text (wildcards active), literal text, or a variable."""

    kind: str  # "pattern" | "literal" | "variable"
    text: str  # the text, or the lower-cased condition key of a variable
    default: str | None = None


@dataclass(frozen=True)
class Template:
    """A policy string split into pattern text, escapes and variables."""

    source: str
    parts: tuple[Part, ...]

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(p.text for p in self.parts if p.kind == "variable")

    @property
    def has_variables(self) -> bool:
        return any(p.kind == "variable" for p in self.parts)

    def resolve(self, context: Context) -> tuple[Part, ...] | None:
        """Substitute variables from ``context`` (lower-case keys); ``None`` if one has no value and no default."""
        if not self.has_variables:
            return self.parts
        out: list[Part] = []
        for part in self.parts:
            if part.kind != "variable":
                out.append(part)
                continue
            value = variable_value(context, part.text)
            if value is None:
                if part.default is None:
                    return None
                value = part.default
            out.append(Part("literal", value))
        return tuple(out)

    def regex(self, context: Context, *, arn: bool = False) -> re.Pattern[str] | None:
        """The compiled glob for this template under ``context`` (cached by the substituted values)."""
        values: list[str | None] = []
        for part in self.parts:
            if part.kind == "variable":
                value = variable_value(context, part.text)
                if value is None and part.default is None:
                    return None
                values.append(part.default if value is None else value)
        return _template_regex(self.source, tuple(values), arn)


@lru_cache(maxsize=8192)
def _template_regex(source: str, values: tuple[str | None, ...], arn: bool) -> re.Pattern[str]:
    supplied = iter(values)
    parts = [Part("literal", next(supplied) or "") if p.kind == "variable" else p for p in parse_template(source).parts]
    return compiled(glob_regex(parts, arn=arn))


def variable_value(context: Context, key: str) -> str | None:
    """The single value of ``key`` in ``context``; multi-valued and missing keys have none."""
    value = context.get(key)
    if value is None or isinstance(value, str):
        return value
    values = list(value)
    return values[0] if len(values) == 1 else None


@lru_cache(maxsize=4096)
def parse_template(text: str, *, variables: bool = True) -> Template:
    """Split ``text`` into parts; with ``variables=False`` (policy Version 2008-10-17) ``${...}`` is plain text."""
    if not variables or "${" not in text:
        return Template(text, (Part("pattern", text),) if text else ())
    parts: list[Part] = []
    pos = 0
    for match in _VARIABLE.finditer(text):
        if match.start() > pos:
            parts.append(Part("pattern", text[pos : match.start()]))
        body = match.group(1)
        if body in _ESCAPES:
            parts.append(Part("literal", _ESCAPES[body]))
        else:
            parsed = _VARIABLE_BODY.match(body)
            if parsed is None:
                raise TemplateError(f"malformed policy variable ${{{body}}} in {text!r}")
            parts.append(Part("variable", parsed.group(1).lower(), parsed.group(2)))
        pos = match.end()
    rest = text[pos:]
    if "${" in rest:
        raise TemplateError(f"unterminated policy variable in {text!r} (expected ${{key}})")
    if rest:
        parts.append(Part("pattern", rest))
    return Template(text, tuple(parts))


def join_text(parts: Iterable[Part]) -> str:
    """The parts as a plain string (wildcards not interpreted): for equality operators."""
    return "".join(p.text for p in parts)


def glob_regex(parts: Iterable[Part], *, arn: bool = False) -> str:
    """A regex source for parts whose pattern text holds ``*``/``?``.

    With ``arn=True`` wildcards stay inside a colon-delimited segment, except a ``*`` that ends a segment, which may
    run on across colons (the IAM resource rule).
    """
    out: list[str] = []
    parts = list(parts)
    flat: list[tuple[str, bool]] = [(ch, p.kind == "pattern") for p in parts for ch in p.text]
    for i, (ch, active) in enumerate(flat):
        if active and ch == "*":
            if not arn:
                out.append(".*")
            else:
                nxt = flat[i + 1][0] if i + 1 < len(flat) else None
                out.append(".*" if nxt is None or nxt == ":" else "[^:]*")
        elif active and ch == "?":
            out.append("[^:]" if arn else ".")
        else:
            out.append(re.escape(ch))
    return "".join(out)


@lru_cache(maxsize=8192)
def compiled(regex: str, ignore_case: bool = False) -> re.Pattern[str]:
    """``re.compile`` with a cache: resolved variable patterns repeat from request to request."""
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """``*``/``?`` glob match of a whole string (no segment rule), e.g. for StringLike without variables."""
    regex = glob_regex(parse_template(pattern, variables=False).parts)
    return compiled(regex, ignore_case).fullmatch(value) is not None


class ActionMatcher:
    """Matches action names (``service:Action``) against a list of patterns, case-insensitively, in one regex."""

    __slots__ = ("_regex",)

    def __init__(self, patterns: Iterable[str]) -> None:
        alternatives = [glob_regex(parse_template(p, variables=False).parts) for p in patterns]
        self._regex = compiled("|".join(f"(?:{a})" for a in alternatives) or "(?!)", True)

    def matches(self, action: str) -> bool:
        return self._regex.fullmatch(action) is not None


class ResourceMatcher:
    """Matches ARNs against Resource/NotResource patterns; patterns with variables are resolved per request."""

    __slots__ = ("_dynamic", "_static")

    def __init__(self, patterns: Iterable[str], *, variables: bool = True) -> None:
        static: list[str] = []
        self._dynamic: list[Template] = []
        for pattern in patterns:
            template = parse_template(pattern, variables=variables)
            if template.has_variables:
                self._dynamic.append(template)
            else:
                static.append(glob_regex(template.parts, arn=pattern != "*"))
        self._static = compiled("|".join(f"(?:{s})" for s in static)) if static else None

    @property
    def templates(self) -> tuple[Template, ...]:
        return tuple(self._dynamic)

    def matches(self, resource: str, context: Context) -> bool:
        """Whether any pattern matches; a pattern whose variables cannot be resolved matches nothing."""
        if self._static is not None and self._static.fullmatch(resource) is not None:
            return True
        for template in self._dynamic:
            regex = template.regex(context, arn=True)
            if regex is not None and regex.fullmatch(resource) is not None:
                return True
        return False


def split_arn(arn: str) -> list[str] | None:
    """The six components of an ARN (the resource part may hold colons), or ``None`` if it is not one."""
    pieces = arn.split(":", 5)
    if len(pieces) != 6 or pieces[0] != "arn":
        return None
    return pieces


def arn_like(pattern: Sequence[Part], value: str) -> bool:
    """``ArnLike``/``ArnEquals``: each of the six ARN components matched separately, with ``*``/``?`` wildcards."""
    target = split_arn(value)
    if target is None:
        return False
    segments: list[list[Part]] = [[]]
    for part in pattern:
        if part.kind != "pattern" or len(segments) == 6:
            segments[-1].append(part)
            continue
        chunks = part.text.split(":", 6 - len(segments))
        segments[-1].append(Part("pattern", chunks[0]))
        for chunk in chunks[1:]:
            segments.append([Part("pattern", chunk)])
    if len(segments) != 6:
        return False
    return all(compiled(glob_regex(seg)).fullmatch(tgt) is not None for seg, tgt in zip(segments, target, strict=True))
