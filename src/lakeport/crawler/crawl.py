"""One crawl, start to finish: list (or read events), sample what changed, group into tables, apply at once.

The passes, in order, are listed in :data:`PASSES`. Nothing reaches the catalog before the last one, which
is a single transaction: a crawl that fails, is stopped or is killed leaves the catalog as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from lakeport.catalog.model import ICEBERG
from lakeport.catalog.names import identifier
from lakeport.crawler.classifiers import Classifier, ClassifierOptions, classify, custom_classifier
from lakeport.crawler.definition import CRAWL_EVENT_MODE, CRAWL_NEW_FOLDERS_ONLY, CrawlerDefinition
from lakeport.crawler.grouping import CrawledFile, Planner, TablePlan
from lakeport.crawler.iceberg import iceberg_shape, latest_metadata, metadata_root
from lakeport.crawler.index import Index, IndexEntry, load_index, save_index
from lakeport.crawler.reconcile import Outcome, Reconciler
from lakeport.crawler.runs import CANCELLED, FAILED, READY, STOPPING, SUCCEEDED
from lakeport.crawler.sampling import read_sample
from lakeport.crawler.schema import crawler_runs, crawlers
from lakeport.crawler.targets import Target, excluded, hidden
from lakeport.errors import LakeportError
from lakeport.metadata.times import now
from lakeport.storage.events import event_cursors
from lakeport.storage.objects import ObjectInfo

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from lakeport.crawler.crawler import Crawlers

Progress = Callable[[str, int, int | None], None]
"""``progress(stage, done, total)``: stages are "listing", "reading", "cataloging"."""

PASSES = (
    "find: list the include paths (or read the object events since the last crawl), drop hidden and excluded files",
    "diff: compare with the object index; unchanged files are not opened",
    "sample: read the start of each new or changed file (Parquet: its footer) and classify it",
    "group: decide tables and partitions from the folder tree and the schemas (grouping.py)",
    "apply: in ONE transaction, update the catalog under the policies, save the index, finish the run",
)

HEARTBEAT_SECONDS = 10.0
STOP_CHECK_SECONDS = 0.5


class CrawlCancelled(Exception):
    """The crawler was asked to stop; nothing is applied."""


@dataclass
class Found:
    """What the find pass produced."""

    objects: dict[tuple[str, str], ObjectInfo] = field(default_factory=dict)
    removed: set[tuple[str, str]] = field(default_factory=set)
    listed: int = 0
    ignored: int = 0
    full_listing: bool = True
    cursor: int | None = None


class Crawl:
    def __init__(
        self, service: Crawlers, definition: CrawlerDefinition, run_id: str, progress: Progress | None
    ) -> None:
        self.service = service
        self.definition = definition
        self.run_id = run_id
        self.progress = progress or (lambda stage, done, total: None)
        self.targets = sorted(definition.parsed_targets, key=lambda t: (-len(t.prefix), t.bucket))
        self.log_group = f"/lakeport/crawlers/{definition.name}"
        self._last_check = 0.0
        self._last_beat = time.monotonic()
        self.custom: tuple[Classifier, ...] = tuple(custom_classifier(n) for n in definition.classifiers)
        self.options = ClassifierOptions(csv_header=definition.csv_header, csv_delimiter=definition.csv_delimiter)

    @property
    def consumer(self) -> str:
        return f"crawler:{self.definition.name}"

    def log(self, message: str, level: str = "INFO") -> None:
        self.service.logs.put(self.log_group, self.run_id, message, level=level, crawl_id=self.run_id)

    # ---- the passes

    def execute(self) -> dict[str, Any]:
        started = time.monotonic()
        d = self.definition
        self.log(f"crawl {self.run_id} started ({d.recrawl_behavior}) on {', '.join(d.targets)}")
        with self.service.db.read() as conn:
            before = load_index(conn, d.name)
            succeeded_before = conn.execute(
                select(crawler_runs.c.id).where(crawler_runs.c.crawler == d.name, crawler_runs.c.status == SUCCEEDED)
            ).first()
        found = self._find(before, event_mode=d.recrawl_behavior == CRAWL_EVENT_MODE and succeeded_before is not None)
        after, to_read = self._diff(before, found)
        read_entries = self._sample(to_read)
        after.update(read_entries)
        plans = self._group(after)
        warnings = self._warnings(after) + _single_file_tables(plans)
        self.check_stop(force=True)
        summary = {
            "files_listed": found.listed,
            "files_ignored": found.ignored,
            "files_read": len(read_entries),
            "files_unchanged": sum(1 for k in after if k in before and before[k] == after[k]),
            "files_skipped": sum(1 for e in after.values() if e.shape is None),
            "files_removed": len([k for k in before if k not in after]),
        }
        self.progress("cataloging", 0, len(plans))
        outcome = self.service.db.run_write(
            lambda conn: self._apply(conn, plans, before, after, found, summary, warnings, started)
        )
        self.progress("cataloging", len(plans), len(plans))
        for warning in warnings:
            self.log(f"{warning['file']}: {warning['reason']}", "WARN")
        for level, message in outcome.log:
            self.log(message, level)
        self.log(
            f"crawl {self.run_id} SUCCEEDED in {time.monotonic() - started:.2f}s: "
            f"{outcome.tables_created} tables created, {outcome.tables_updated} updated, "
            f"{outcome.tables_deleted} deleted; {outcome.partitions_added} partitions added, "
            f"{outcome.partitions_removed} removed; {summary['files_read']} files read, "
            f"{summary['files_unchanged']} unchanged, {len(warnings)} warnings"
        )
        return {**summary, **outcome.counters()}

    def _keep(self, info_key: str, bucket: str) -> Target | None:
        """The include path a key belongs to (the most specific), or None when hidden or excluded."""
        for target in self.targets:
            if target.covers(bucket, info_key):
                relative = target.relative(info_key)
                if not relative or hidden(relative) or excluded(relative, self.definition.exclusions):
                    return None
                return target
        return None

    def _find(self, before: Index, *, event_mode: bool) -> Found:
        found = Found()
        if event_mode:
            return self._find_events(found)
        if self.definition.recrawl_behavior == CRAWL_EVENT_MODE:
            found.cursor = self.service.events.latest_id()
        for target in self.targets:
            for info in self._iter_target(target):
                found.listed += 1
                if self._keep(info.key, info.bucket) is not target:
                    found.ignored += 1 if self._keep(info.key, info.bucket) is None else 0
                    continue
                found.objects[(info.bucket, info.key)] = info
                if found.listed % 500 == 0:
                    self.progress("listing", found.listed, None)
                    self.check_stop()
        self.progress("listing", found.listed, found.listed)
        return found

    def _iter_target(self, target: Target) -> Iterator[ObjectInfo]:
        if not self.service.storage.bucket_exists(target.bucket):
            self.log(f"include path {target.uri}: bucket {target.bucket} does not exist", "WARN")
            return
        yield from self.service.storage.iter_objects(target.bucket, prefix=target.prefix)

    def _find_events(self, found: Found) -> Found:
        found.full_listing = False
        position = self.service.events.position(self.consumer)
        while True:
            batch = self.service.events.read(after=position, limit=1000)
            if not batch:
                break
            for event in batch:
                position = event.id
                key = (event.bucket, event.key)
                if self._keep(event.key, event.bucket) is None:
                    continue
                found.listed += 1
                if event.created:
                    found.objects[key] = ObjectInfo(event.bucket, event.key, event.size, event.etag, event.event_time)
                    found.removed.discard(key)
                else:
                    found.objects.pop(key, None)
                    found.removed.add(key)
        found.cursor = position
        return found

    def _diff(self, before: Index, found: Found) -> tuple[Index, list[ObjectInfo]]:
        if found.full_listing:
            candidates = found.objects
            if self.definition.recrawl_behavior == CRAWL_NEW_FOLDERS_ONLY and before:
                known = {(b, k.rsplit("/", 1)[0] if "/" in k else "") for b, k in before}
                candidates = {
                    key: info
                    for key, info in found.objects.items()
                    if (key[0], key[1].rsplit("/", 1)[0] if "/" in key[1] else "") not in known
                }
                after = {key: entry for key, entry in before.items() if key in found.objects}
            else:
                after = {key: entry for key, entry in before.items() if key in found.objects}
        else:
            candidates = found.objects
            after = {key: entry for key, entry in before.items() if key not in found.removed}
        candidates = self._only_latest_iceberg_metadata(candidates, after)
        to_read = []
        for key, info in sorted(candidates.items()):
            entry = after.get(key)
            if entry is None or entry.etag != info.etag or entry.size != info.size:
                to_read.append(info)
        return after, to_read

    def _relative(self, bucket: str, key: str) -> tuple[Target, str] | None:
        for target in self.targets:
            if target.covers(bucket, key):
                return target, target.relative(key)
        return None

    def _iceberg_roots(
        self, keys: Iterator[tuple[str, str]] | list[tuple[str, str]]
    ) -> dict[tuple[str, str], list[str]]:
        """``(bucket, root prefix) → metadata keys`` of the Iceberg table folders among ``keys``."""
        roots: dict[tuple[str, str], list[str]] = {}
        for bucket, key in keys:
            if not key.endswith(".metadata.json"):
                continue  # the cheap test first: this runs over every key of every crawl
            where = self._relative(bucket, key)
            if where is None:
                continue
            target, relative = where
            root = metadata_root(relative)
            if root is not None:
                roots.setdefault((bucket, target.prefix + root), []).append(key)
        return roots

    def _only_latest_iceberg_metadata(
        self, candidates: dict[tuple[str, str], ObjectInfo], after: Index
    ) -> dict[tuple[str, str], ObjectInfo]:
        roots = self._iceberg_roots(list(candidates) + list(after))
        if not roots:
            return candidates
        keep = {(bucket, latest_metadata(keys)) for (bucket, _), keys in roots.items()}
        out: dict[tuple[str, str], ObjectInfo] = {}
        for key, info in candidates.items():
            inside = any(key[0] == bucket and key[1].startswith(root) for bucket, root in roots)
            if not inside or key in keep:
                out[key] = info
        for key in list(after):
            inside = any(key[0] == bucket and key[1].startswith(root) for bucket, root in roots)
            if inside and key not in keep:
                del after[key]
        return out

    def _read_one(self, info: ObjectInfo) -> IndexEntry:
        storage = self.service.storage
        try:
            where = self._relative(info.bucket, info.key)
            if where is not None and metadata_root(where[1]) is not None:
                shape = iceberg_shape(info.uri, storage.read_bytes(info.bucket, info.key))
                return IndexEntry(info.bucket, info.key, info.etag, info.size, shape)
            sample = read_sample(
                lambda byte_range: storage.get_object(info.bucket, info.key, byte_range=byte_range),
                info,
                self.definition.sample_bytes,
            )
            verdict = classify(sample, self.options, self.custom)
        except LakeportError as exc:
            return IndexEntry(
                info.bucket, info.key, info.etag, info.size, None, exc.message.removeprefix(f"{info.uri}: ")
            )
        except Exception as exc:  # a file must never stop the crawl
            return IndexEntry(
                info.bucket, info.key, info.etag, info.size, None, f"unreadable: {type(exc).__name__}: {exc}"
            )
        return IndexEntry(info.bucket, info.key, info.etag, info.size, verdict.shape, verdict.reason or None)

    def _sample(self, to_read: list[ObjectInfo]) -> Index:
        out: Index = {}
        total = len(to_read)
        self.progress("reading", 0, total)
        if not to_read:
            return out
        with ThreadPoolExecutor(max_workers=self.service.threads, thread_name_prefix="crawl") as pool:
            pending: set[Future[IndexEntry]] = set()
            queue = iter(to_read)
            for info in queue:
                pending.add(pool.submit(self._read_one, info))
                if len(pending) >= self.service.threads * 4:
                    break
            try:
                while pending:
                    done, pending = wait(pending, timeout=STOP_CHECK_SECONDS, return_when=FIRST_COMPLETED)
                    for future in done:
                        entry = future.result()
                        out[(entry.bucket, entry.key)] = entry
                        nxt = next(queue, None)
                        if nxt is not None:
                            pending.add(pool.submit(self._read_one, nxt))
                    self.progress("reading", len(out), total)
                    self.check_stop()
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
        return out

    def _group(self, index: Index) -> list[TablePlan]:
        roots = self._iceberg_roots(list(index))
        plans: list[TablePlan] = []
        per_target: dict[Target, list[CrawledFile]] = {t: [] for t in self.targets}
        for (bucket, key), entry in sorted(index.items()):
            if entry.shape is None:
                continue
            if any(bucket == b and key.startswith(root) for b, root in roots):
                continue
            where = self._relative(bucket, key)
            if where is not None:
                per_target[where[0]].append(CrawledFile(bucket, key, entry.size, entry.etag, entry.shape))
        for target, files in per_target.items():
            planner = Planner(
                target,
                table_level=self.definition.table_level,
                combine=self.definition.combine_compatible_schemas,
                infer_partition_types=self.definition.partition_types == "infer",
            )
            plans.extend(planner.plan(files))
        for (bucket, root), keys in sorted(roots.items()):
            latest = index.get((bucket, latest_metadata(keys)))
            if latest is None or latest.shape is None:
                continue
            pieces = [p for p in root.split("/") if p]
            plans.append(
                TablePlan(
                    name=identifier(pieces[-1] if pieces else bucket, "table"),
                    location=f"s3://{bucket}/{root}",
                    format=latest.shape.format,
                    columns=list(latest.shape.columns),
                    table_type=ICEBERG,
                    parameters=dict(latest.shape.parameters),
                    files=1,
                    size=latest.size,
                )
            )
        return plans

    @staticmethod
    def _warnings(index: Index) -> list[dict[str, str]]:
        out: list[dict[str, str]] = []
        for entry in sorted(index.values(), key=lambda e: (e.bucket, e.key)):
            if entry.warning:
                out.append({"file": entry.uri, "reason": entry.warning})
            if entry.shape is not None:
                out.extend({"file": entry.uri, "reason": note} for note in entry.shape.notes)
        return out

    def _apply(
        self,
        conn: Connection,
        plans: list[TablePlan],
        before: Index,
        after: Index,
        found: Found,
        summary: dict[str, Any],
        warnings: list[dict[str, str]],
        started: float,
    ) -> Outcome:
        d = self.definition
        crawler = conn.execute(select(crawlers).where(crawlers.c.name == d.name)).first()
        if crawler is None or crawler.current_run_id != self.run_id:
            raise LakeportError(f"crawler {d.name}: this crawl is no longer the crawler's current run")
        if crawler.state == STOPPING:
            raise CrawlCancelled()
        reconciler = Reconciler(
            self.service.catalog.session(conn),
            crawler=d.name,
            database=d.database,
            table_prefix=d.table_prefix,
            update_behavior=d.update_behavior,
            delete_behavior=d.delete_behavior,
            new_folders_only=d.recrawl_behavior == CRAWL_NEW_FOLDERS_ONLY,
            target_uris=d.targets,
        )
        outcome = reconciler.apply(plans)
        save_index(conn, d.name, before, after)
        if found.cursor is not None:
            self._save_cursor(conn, found.cursor)
        conn.execute(
            update(crawler_runs)
            .where(crawler_runs.c.id == self.run_id)
            .values(
                status=SUCCEEDED,
                ended_at=now(),
                summary={
                    **summary,
                    **outcome.counters(),
                    "tables": outcome.tables,
                    "seconds": round(time.monotonic() - started, 3),
                },
                warnings=warnings,
            )
        )
        conn.execute(update(crawlers).where(crawlers.c.name == d.name).values(state=READY, current_run_id=None))
        return outcome

    def _save_cursor(self, conn: Connection, position: int) -> None:
        stamp = now()
        moved = conn.execute(
            update(event_cursors)
            .where(event_cursors.c.consumer == self.consumer)
            .values(position=position, updated_at=stamp)
        )
        if not moved.rowcount:
            conn.execute(event_cursors.insert().values(consumer=self.consumer, position=position, updated_at=stamp))

    # ---- liveness

    def check_stop(self, *, force: bool = False) -> None:
        """Raise CrawlCancelled when the crawler was asked to stop; send a heartbeat now and then."""
        moment = time.monotonic()
        if not force and moment - self._last_check < STOP_CHECK_SECONDS:
            return
        self._last_check = moment
        with self.service.db.read() as conn:
            state = conn.execute(select(crawlers.c.state).where(crawlers.c.name == self.definition.name)).scalar()
        if state == STOPPING:
            raise CrawlCancelled()
        if moment - self._last_beat >= HEARTBEAT_SECONDS:
            self._last_beat = moment
            self.service.db.run_write(
                lambda conn: conn.execute(
                    update(crawler_runs).where(crawler_runs.c.id == self.run_id).values(heartbeat_at=now())
                )
            )


def finish_unsuccessfully(conn: Connection, crawler: str, run_id: str, status: str, error: str | None) -> None:
    assert status in (FAILED, CANCELLED)
    conn.execute(
        update(crawler_runs)
        .where(crawler_runs.c.id == run_id, crawler_runs.c.status == "RUNNING")
        .values(status=status, ended_at=now(), error=error)
    )
    conn.execute(
        update(crawlers)
        .where(crawlers.c.name == crawler, crawlers.c.current_run_id == run_id)
        .values(state=READY, current_run_id=None)
    )


def _single_file_tables(plans: Sequence[TablePlan]) -> list[dict[str, str]]:
    """A warning for each table whose location is one file (Glue makes one when a folder's files differ).

    Athena reads a table's location as a folder: a query on such a table reads no rows, and so does lakeport's."""
    return [
        {
            "file": plan.location,
            "reason": (
                f"table {plan.name} is this one file, because the files beside it have other columns; Athena reads "
                "a table's location as a folder, so queries on it return no rows: give each dataset a folder of its own"
            ),
        }
        for plan in plans
        if plan.table_type != ICEBERG and plan.location and not plan.location.endswith("/")
    ]
