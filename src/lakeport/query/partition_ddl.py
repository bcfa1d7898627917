"""Partition DDL: MSCK REPAIR TABLE (add the Hive-style ``key=value/`` folders under the table's location that the
catalog does not have yet) and ALTER TABLE ADD/DROP PARTITION, with Athena's syntax and Hive's path rules (the
crawler's own ``partitions`` module reads and writes the folder names)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lakeport.catalog.model import Partition, Table
from lakeport.crawler.partitions import parse_segment, partition_path
from lakeport.errors import AlreadyExists, InvalidInput, NotFound
from lakeport.query.engine import ResultSet
from lakeport.query.statements import NAME, STRING, bare, table_name

if TYPE_CHECKING:
    from lakeport.query.runner import QueryRun

_MSCK = re.compile(rf"MSCK\s+REPAIR\s+TABLE\s+({NAME}(?:\.{NAME})?)", re.I)
_ALTER = re.compile(
    rf"ALTER\s+TABLE\s+({NAME}(?:\.{NAME})?)\s+(ADD|DROP)\s+(IF\s+(?:NOT\s+)?EXISTS\s+)?(PARTITION\b.*)", re.I | re.S
)
_SPEC = re.compile(r"PARTITION\s*\(([^)]*)\)(?:\s*LOCATION\s+" + STRING + r")?\s*,?\s*", re.I)
_PAIR = re.compile(rf"\s*({NAME})\s*=\s*({STRING}|[^,\s]+)\s*(?:,|$)")


def _table(job: QueryRun, text: str) -> Table:
    table = job.catalog.get_table(*table_name(text, job.database))
    if not table.partition_keys:
        raise InvalidInput(
            f"table {table.full_name} is not partitioned", hint="partition statements need PARTITIONED BY keys"
        )
    return table


def partition_statement(job: QueryRun, text: str) -> ResultSet:
    if found := _MSCK.fullmatch(text):
        return _repair(job, _table(job, found.group(1)))
    found = _ALTER.fullmatch(text)
    if found is None:
        raise InvalidInput(
            f"{' '.join(text.split()[:4])} … is not supported",
            hint="ALTER TABLE t ADD/DROP PARTITION (…) and MSCK REPAIR TABLE t are",
        )
    table = _table(job, found.group(1))
    specs = _specs(table, found.group(4))
    guarded = bool(found.group(3))
    if found.group(2).upper() == "ADD":
        return _add(job, table, specs, if_not_exists=guarded)
    if any(location for _, location in specs):
        raise InvalidInput("ALTER TABLE DROP PARTITION takes no LOCATION")
    return _drop(job, table, [values for values, _ in specs], if_exists=guarded)


def _specs(table: Table, text: str) -> list[tuple[tuple[str | None, ...], str | None]]:
    """Each ``PARTITION (k = v, …) [LOCATION '…']``: its values in the table's key order, and its location."""
    specs: list[tuple[tuple[str | None, ...], str | None]] = []
    position = 0
    text = text.strip().rstrip(";")
    while position < len(text):
        found = _SPEC.match(text, position)
        if found is None:
            raise InvalidInput(f"cannot read the partition list at {text[position : position + 30]!r}")
        given: dict[str, str] = {}
        body = found.group(1).strip()
        at = 0
        while at < len(body):
            pair = _PAIR.match(body, at)
            if pair is None:
                raise InvalidInput(f"cannot read the partition spec ({body})", hint="PARTITION (key = 'value', …)")
            value = pair.group(3).replace("''", "'") if pair.group(3) is not None else pair.group(2)
            given[bare(pair.group(1)).lower()] = value
            at = pair.end()
        keys = [k.name.lower() for k in table.partition_keys]
        unknown = sorted(set(given) - set(keys))
        if unknown:
            raise InvalidInput(
                f"table {table.full_name} has no partition key {unknown[0]!r}", hint=f"its keys: {', '.join(keys)}"
            )
        missing = [k for k in keys if k not in given]
        if missing:
            raise InvalidInput(f"partition ({body}) of {table.full_name} gives no value for {', '.join(missing)}")
        location = found.group(2).replace("''", "'") if found.group(2) is not None else None
        if location is not None and not location.startswith("s3://"):
            raise InvalidInput(f"partition LOCATION {location!r} is not an s3:// URI")
        for key in table.partition_keys:
            _check_value(table, key.name, key.type, given[key.name.lower()])
        specs.append((tuple(given[k] for k in keys), location))
        position = found.end()
    if not specs:
        raise InvalidInput("name at least one PARTITION (key = 'value', …)")
    return specs


def _check_value(table: Table, key: str, kind: str, value: str) -> None:
    """A partition value must read as its key's type (Athena would fail every query of that partition)."""
    from datetime import date

    lowered = kind.lower()
    try:
        if lowered in ("tinyint", "smallint", "int", "integer", "bigint"):
            int(value)
        elif lowered in ("double", "float") or lowered.startswith("decimal"):
            float(value)
        elif lowered == "date":
            date.fromisoformat(value)
        elif lowered == "boolean" and value.lower() not in ("true", "false"):
            raise ValueError(value)
    except ValueError:
        raise InvalidInput(
            f"partition value {value!r} of {table.full_name} is not a {kind} (partition key {key})"
        ) from None


def _add(
    job: QueryRun, table: Table, specs: list[tuple[tuple[str | None, ...], str | None]], *, if_not_exists: bool
) -> ResultSet:
    keys = [k.name for k in table.partition_keys]
    partitions = [
        Partition(
            table.database,
            table.name,
            values,
            location or f"{table.location.rstrip('/')}/{partition_path(keys, list(values))}/",
        )
        for values, location in specs
    ]
    result = job.catalog.create_partitions(table.database, table.name, partitions)
    for error in result.errors:
        if error.code == "AlreadyExistsException" and if_not_exists:
            continue
        raise (AlreadyExists if error.code == "AlreadyExistsException" else InvalidInput)(
            f"partition {list(error.values)} of {table.full_name}: {error.message}",
            hint="ALTER TABLE … ADD IF NOT EXISTS skips partitions that exist",
        )
    return ResultSet(columns=[])


def _drop(job: QueryRun, table: Table, values: list[tuple[str | None, ...]], *, if_exists: bool) -> ResultSet:
    result = job.catalog.delete_partitions(table.database, table.name, values)
    for error in result.errors:
        if if_exists and error.code == "EntityNotFoundException":
            continue
        raise NotFound(
            f"partition {list(error.values)} of {table.full_name}: {error.message}",
            hint="ALTER TABLE … DROP IF EXISTS skips partitions that are not there",
        )
    return ResultSet(columns=[])


def _repair(job: QueryRun, table: Table) -> ResultSet:
    """Add every ``key=value/…`` folder under the location whose keys are the table's, in order."""
    bucket, _, prefix = table.location.removeprefix("s3://").partition("/")
    prefix = prefix.rstrip("/") + "/" if prefix else ""
    keys = [k.name for k in table.partition_keys]
    found: dict[tuple[str | None, ...], str] = {}
    for info in job.storage.iter_objects(bucket, prefix=prefix):
        folders = info.key[len(prefix) :].split("/")[:-1]
        if len(folders) < len(keys) or any(f.startswith(("_", ".")) for f in folders):
            continue
        parsed = [parse_segment(f) for f in folders[: len(keys)]]
        if any(k is None or k.lower() != want.lower() for (k, _), want in zip(parsed, keys, strict=True)):
            continue
        values = tuple(v for _, v in parsed)
        found.setdefault(values, f"s3://{bucket}/{prefix}{'/'.join(folders[: len(keys)])}/")
    known = {p.values for p in job.catalog.get_partitions(table.database, table.name)}
    new = [
        Partition(table.database, table.name, v, loc) for v, loc in sorted(found.items(), key=_order) if v not in known
    ]
    if new:
        job.catalog.create_partitions(table.database, table.name, new)
    names = ["/".join(f"{k}={v}" for k, v in zip(keys, p.values, strict=True)) for p in new]
    lines = [f"Partitions not in metastore:\t{' '.join(f'{table.name}:{n}' for n in names)}"] if names else []
    lines += [f"Repair: Added partition to metastore {table.name}:{n}" for n in names]
    return ResultSet([("result", "varchar")], [[line] for line in lines])


def _order(item: tuple[tuple[str | None, ...], str]) -> tuple[str, ...]:
    return tuple("" if v is None else v for v in item[0])
