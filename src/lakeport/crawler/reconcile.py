"""Applying a crawl's table plans to the catalog, under the crawler's schema-change and delete policies.

Glue's rules, which this module follows:

- New tables and new partitions are always created, whatever the policy.
- A changed schema (columns, partition keys, format) is written as a new table version under
  ``UPDATE_IN_DATABASE`` and only logged under ``LOG``.
- Tables of this crawler whose files are all gone, and partitions whose folders are gone, are deleted under
  ``DELETE_FROM_DATABASE``, marked with ``DEPRECATED_BY_CRAWLER`` under ``DEPRECATE_IN_DATABASE`` (tables) and
  only logged under ``LOG``.
- "New folders only" never changes what exists: it only adds tables and partitions.

A plan is matched to an existing table by location first (so a table keeps its name), then by name. A name
held by a table elsewhere gets a short hash of the location appended, as Glue does.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from lakeport.catalog.catalog import CatalogSession
from lakeport.catalog.model import Column, Partition, Table
from lakeport.catalog.versions import diff_tables
from lakeport.crawler.definition import DELETE_FROM_DATABASE, DEPRECATE_IN_DATABASE, UPDATE_IN_DATABASE
from lakeport.crawler.grouping import PartitionPlan, TablePlan
from lakeport.metadata.times import iso, now

CRAWLER_PARAMETER = "UPDATED_BY_CRAWLER"
DEPRECATED_PARAMETER = "DEPRECATED_BY_CRAWLER"


@dataclass
class Outcome:
    tables_created: int = 0
    tables_updated: int = 0
    tables_deleted: int = 0
    tables_deprecated: int = 0
    partitions_added: int = 0
    partitions_updated: int = 0
    partitions_removed: int = 0
    schema_changes_logged: int = 0
    log: list[tuple[str, str]] = field(default_factory=list)  # (level, message)
    tables: list[str] = field(default_factory=list)

    def counters(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if isinstance(v, int)}


def _statistics(plan: TablePlan) -> dict[str, str]:
    stats = {
        "recordCount": str(plan.rows),
        "sizeKey": str(plan.size),
        "objectCount": str(plan.files),
        "averageRecordSize": str(plan.size // plan.rows if plan.rows else 0),
    }
    if plan.format.compression:
        stats["compressionType"] = plan.format.compression
    return stats


class Reconciler:
    def __init__(
        self,
        session: CatalogSession,
        *,
        crawler: str,
        database: str,
        table_prefix: str,
        update_behavior: str,
        delete_behavior: str,
        new_folders_only: bool,
        target_uris: Sequence[str],
    ) -> None:
        self.session = session
        self.crawler = crawler
        self.database = database
        self.prefix = table_prefix
        self.update_behavior = update_behavior
        self.delete_behavior = delete_behavior
        self.new_folders_only = new_folders_only
        self.target_uris = tuple(target_uris)
        self.outcome = Outcome()

    def _log(self, message: str, level: str = "INFO") -> None:
        self.outcome.log.append((level, message))

    def apply(self, plans: Sequence[TablePlan]) -> Outcome:
        self.session.create_database(self.database, exist_ok=True)
        self._serialize()
        existing = self.session.list_tables(self.database)
        by_location = {t.location: t for t in existing}
        taken = {t.name for t in existing}
        planned_names: set[str] = set()
        seen_locations: set[str] = set()
        for plan in sorted(plans, key=lambda p: p.location):
            seen_locations.add(plan.location)
            current = by_location.get(plan.location)
            if current is not None:
                name = current.name
            else:
                name = self.prefix + plan.name
                if name in taken or name in planned_names:
                    name = f"{name}_{hashlib.sha1(plan.location.encode()).hexdigest()[:8]}"
            planned_names.add(name)
            self.outcome.tables.append(f"{self.database}.{name}")
            for note in plan.notes:
                self._log(f"table {self.database}.{name}: {note}", "WARN")
            if current is None:
                self._create(name, plan)
            else:
                self._update(current, plan)
        for table in existing:
            if table.location in seen_locations or table.parameters.get(CRAWLER_PARAMETER) != self.crawler:
                continue
            if not any(table.location.startswith(uri) for uri in self.target_uris):
                continue
            self._gone(table)
        return self.outcome

    def _serialize(self) -> None:
        """One crawl applies to a database at a time: matching tables by location is read-then-write.

        SQLite writers already queue (BEGIN IMMEDIATE). PostgreSQL's do not, so take a transaction-scoped
        advisory lock named after the database; the next crawl's reads, after it, see this one's tables.
        """
        conn = self.session.conn
        if conn.dialect.name == "postgresql":
            key = zlib.crc32(f"lakeport-catalog:{self.database}".encode())
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})

    # ---- tables

    def _table(self, name: str, plan: TablePlan, base: Table | None = None) -> Table:
        parameters: dict[str, str] = dict(base.parameters) if base is not None else {}
        parameters.pop(DEPRECATED_PARAMETER, None)
        parameters.update(
            {
                "classification": plan.format.classification,
                "typeOfData": "file",
                CRAWLER_PARAMETER: self.crawler,
                "CrawlerSchemaSerializerVersion": "1.0",
                "CrawlerSchemaDeserializerVersion": "1.0",
                **plan.parameters,
                **_statistics(plan),
            }
        )
        columns = tuple(self._column(base, n, t) for n, t in plan.columns)
        keys = tuple(self._column(base, n, t) for n, t in plan.partition_keys)
        if base is not None:
            return base.with_changes(
                columns=columns,
                partition_keys=keys,
                location=plan.location,
                format=plan.format,
                table_type=plan.table_type,
                parameters=parameters,
            )
        return Table(
            database=self.database,
            name=name,
            columns=columns,
            partition_keys=keys,
            location=plan.location,
            format=plan.format,
            table_type=plan.table_type,
            parameters=parameters,
        )

    @staticmethod
    def _column(base: Table | None, name: str, kind: str) -> Column:
        """A column keeps the comment a person gave it when the crawler sees it again."""
        old = base.column(name) if base is not None else None
        return Column(name, kind, old.comment if old is not None else "")

    def _create(self, name: str, plan: TablePlan) -> None:
        table = self.session.create_table(self._table(name, plan))
        self.outcome.tables_created += 1
        self._log(
            f"created table {table.full_name} at {plan.location}: {len(plan.columns)} columns, "
            f"{len(plan.partitions) if plan.partition_keys else 0} partitions, {plan.files} files"
        )
        if plan.partition_keys:
            self._add_partitions(table, plan.partitions)

    def _update(self, current: Table, plan: TablePlan) -> None:
        wanted = self._table(current.name, plan, current)
        changes = [c for c in diff_tables(current, wanted) if not c.item.startswith("parameter ")]
        schema_changed = wanted.schema_definition() != current.schema_definition()
        table = current
        if self.new_folders_only:
            pass  # never changes what exists
        elif schema_changed and changes and self.update_behavior != UPDATE_IN_DATABASE:
            self.outcome.schema_changes_logged += 1
            self._log(
                f"schema change in {current.full_name} not applied (update behavior LOG): "
                + "; ".join(c.line() for c in changes),
                "WARN",
            )
        elif wanted.definition() != current.definition():
            table = self.session.update_table(wanted)
            if table.version != current.version:
                self.outcome.tables_updated += 1
                self._log(
                    f"updated table {table.full_name} to version {table.version}: "
                    + ("; ".join(c.line() for c in changes) or "parameters")
                )
        if not table.partition_keys and not plan.partition_keys:
            return
        if [k.name for k in table.partition_keys] != [n for n, _ in plan.partition_keys]:
            if table is not current:  # the keys changed with this update: the old partitions no longer fit
                old = self.session.get_partitions(table.database, table.name)
                self.session.delete_partitions(table.database, table.name, [p.values for p in old])
                self.outcome.partitions_removed += len(old)
                self._add_partitions(table, plan.partitions)
            else:
                self._log(f"partitions of {table.full_name} not changed: its partition keys differ from the files'")
            return
        self._sync_partitions(table, plan.partitions)

    def _gone(self, table: Table) -> None:
        if self.new_folders_only or self.delete_behavior not in (DELETE_FROM_DATABASE, DEPRECATE_IN_DATABASE):
            self._log(f"table {table.full_name}: its files are gone (delete behavior LOG; kept)", "WARN")
        elif self.delete_behavior == DELETE_FROM_DATABASE:
            self.session.delete_table(table.database, table.name)
            self.outcome.tables_deleted += 1
            self._log(f"deleted table {table.full_name}: its files are gone")
        elif DEPRECATED_PARAMETER not in table.parameters:
            parameters = {**table.parameters, DEPRECATED_PARAMETER: iso(now()) or ""}
            self.session.update_table(table.with_changes(parameters=parameters))
            self.outcome.tables_deprecated += 1
            self._log(f"deprecated table {table.full_name}: its files are gone")

    # ---- partitions

    @staticmethod
    def _partition(table: Table, plan: PartitionPlan) -> Partition:
        return Partition(
            table.database,
            table.name,
            plan.values,
            plan.location,
            file_count=plan.files,
            size_bytes=plan.size,
            row_count=plan.rows,
        )

    def _add_partitions(self, table: Table, plans: Sequence[PartitionPlan]) -> None:
        if not plans:
            return
        result = self.session.create_partitions(table.database, table.name, [self._partition(table, p) for p in plans])
        self.outcome.partitions_added += result.succeeded
        for error in result.errors:
            self._log(f"partition {list(error.values)} of {table.full_name}: {error.message}", "WARN")

    def _sync_partitions(self, table: Table, plans: Sequence[PartitionPlan]) -> None:
        existing = {p.values: p for p in self.session.get_partitions(table.database, table.name)}
        planned = {p.values: p for p in plans}
        self._add_partitions(table, [p for v, p in planned.items() if v not in existing])
        if self.new_folders_only:
            return
        changed: list[Partition] = []
        for values, plan in planned.items():
            old = existing.get(values)
            if old is None:
                continue
            new = self._partition(table, plan)
            if (old.location, old.file_count, old.size_bytes, old.row_count) != (
                new.location,
                new.file_count,
                new.size_bytes,
                new.row_count,
            ):
                changed.append(new)
        if changed:
            result = self.session.update_partitions(table.database, table.name, changed)
            self.outcome.partitions_updated += result.succeeded
        gone = [v for v in existing if v not in planned]
        if not gone:
            return
        if self.delete_behavior == DELETE_FROM_DATABASE:
            result = self.session.delete_partitions(table.database, table.name, gone)
            self.outcome.partitions_removed += result.succeeded
            self._log(f"removed {result.succeeded} partitions of {table.full_name} whose folders are gone")
        else:
            self._log(f"{len(gone)} partitions of {table.full_name} have no files any more (kept)", "WARN")


def summary_of(outcome: Outcome, extra: dict[str, Any]) -> dict[str, Any]:
    return {**outcome.counters(), **extra}
