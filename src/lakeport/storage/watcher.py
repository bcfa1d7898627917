"""Notice objects written or removed by other programs, and record them as object events.

Two mechanisms, one log:

* **scan** lists the store and compares it with the event log's known state; every difference becomes a
  created or removed event. It works for any backend (listing diffs are how S3 changes are seen) and is
  the safety net that catches whatever a file-system notification missed.
* **watch** (local folders) follows file-system notifications (watchdog), waits until a file has been quiet
  for ``events.settle_seconds`` so that half-copied files are not announced, then records it; it also
  re-scans every ``events.scan_interval_seconds``.

Both go through :meth:`EventLog.record`, so an object reported twice is recorded once.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakeport.errors import InvalidInput, LakeportError, NoSuchKey
from lakeport.storage.events import CREATED_PUT, ObjectChange, ObjectEvent
from lakeport.storage.keys import validate_key
from lakeport.storage.local import INTERNAL_DIR, LocalBackend

if TYPE_CHECKING:
    from lakeport.settings import EventsSettings
    from lakeport.storage.storage import Storage

log = logging.getLogger(__name__)
BATCH = 500
OnEvents = Callable[[list[ObjectEvent]], None]


@dataclass(frozen=True)
class ScanResult:
    seen: int
    events: list[ObjectEvent]

    @property
    def created(self) -> int:
        return sum(1 for e in self.events if e.created)

    @property
    def removed(self) -> int:
        return sum(1 for e in self.events if not e.created)

    def to_dict(self) -> dict[str, Any]:
        return {"seen": self.seen, "created": self.created, "removed": self.removed}


class ObjectWatcher:
    def __init__(self, storage: Storage, settings: EventsSettings) -> None:
        self.storage = storage
        self.events = storage.events
        self.settings = settings

    # ---- scanning

    def scan(self, bucket: str | None = None, prefix: str = "") -> ScanResult:
        """Compare the store with the event log and record every difference."""
        buckets = [bucket] if bucket else sorted({b.name for b in self.storage.list_buckets()})
        seen = 0
        recorded: list[ObjectEvent] = []
        for name in buckets:
            known = self.events.known_objects(name, prefix)
            changes: list[ObjectChange] = []
            present: set[str] = set()
            for info in self.storage.iter_objects(name, prefix=prefix):
                seen += 1
                present.add(info.key)
                if known.get(info.key) != info.etag:
                    changes.append(ObjectChange(name, info.key, info.etag, info.size, info.last_modified, CREATED_PUT))
                if len(changes) >= BATCH:
                    recorded += self.events.record(changes, source="scan")
                    changes = []
            changes += [
                ObjectChange(name, key, None, event_name="ObjectRemoved:Delete") for key in known if key not in present
            ]
            recorded += self.events.record(changes, source="scan")
        return ScanResult(seen, recorded)

    # ---- watching

    def run(
        self,
        stop: threading.Event,
        *,
        on_events: OnEvents | None = None,
        ready: threading.Event | None = None,
    ) -> None:
        """Watch until ``stop`` is set: file-system notifications for a local folder, periodic scans for S3."""
        backend = self.storage.backend
        if isinstance(backend, LocalBackend):
            self._watch_local(backend, stop, on_events, ready)
            return
        self._emit(self.scan(), on_events)
        if ready:
            ready.set()
        while not stop.wait(self.settings.scan_interval_seconds):
            self._emit(self._safe_scan(), on_events)

    def _safe_scan(self) -> ScanResult:
        try:
            return self.scan()
        except LakeportError as exc:
            log.warning("scan failed, will retry: %s", exc.one_line())
            return ScanResult(0, [])

    @staticmethod
    def _emit(result: ScanResult, on_events: OnEvents | None) -> None:
        if on_events and result.events:
            on_events(result.events)

    def _watch_local(
        self,
        backend: LocalBackend,
        stop: threading.Event,
        on_events: OnEvents | None,
        ready: threading.Event | None,
    ) -> None:
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer

        changed: queue.SimpleQueue[tuple[str, bool]] = queue.SimpleQueue()

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.event_type in ("opened", "closed_no_write"):
                    return
                for path in (event.src_path, getattr(event, "dest_path", "")):
                    if path:
                        changed.put((str(path), bool(event.is_directory)))

        backend.root.mkdir(parents=True, exist_ok=True)
        handler = Handler()
        observer = Observer()
        # Watch each bucket folder (not lakeport's own .lakeport/ sidecars), and the root for new buckets.
        observer.schedule(handler, str(backend.root), recursive=False)
        watched: set[str] = set()

        def watch_buckets() -> None:
            for bucket in backend.list_buckets():
                if bucket.name not in watched:
                    watched.add(bucket.name)
                    observer.schedule(handler, str(backend.root / bucket.name), recursive=True)

        watch_buckets()
        observer.start()
        try:
            self._emit(self.scan(), on_events)
            if ready:
                ready.set()
            pending: dict[tuple[str, bool], float] = {}
            next_scan = time.monotonic() + self.settings.scan_interval_seconds
            while not stop.wait(0.05):
                now = time.monotonic()
                while True:
                    try:
                        pending[changed.get_nowait()] = now
                    except queue.Empty:
                        break
                if any(Path(path).parent == backend.root for path, _ in pending):
                    watch_buckets()  # a bucket was created: follow it too
                settled = [item for item, at in pending.items() if now - at >= self.settings.settle_seconds]
                for item in settled:
                    del pending[item]
                if settled:
                    self._emit(ScanResult(0, self._record_paths(backend, settled)), on_events)
                if now >= next_scan:
                    self._emit(self._safe_scan(), on_events)
                    next_scan = now + self.settings.scan_interval_seconds
        finally:
            observer.stop()
            observer.join(timeout=5)

    def _record_paths(self, backend: LocalBackend, items: list[tuple[str, bool]]) -> list[ObjectEvent]:
        changes: list[ObjectChange] = []
        rescans: set[tuple[str, str]] = set()
        for raw, is_dir in items:
            where = self._locate(backend, Path(raw))
            if where is None:
                continue
            bucket, key = where
            if is_dir or Path(raw).is_dir():
                rescans.add((bucket, key + "/" if key else ""))
                continue
            try:
                info = backend.head_object(bucket, key)
            except NoSuchKey:
                changes.append(ObjectChange(bucket, key, None, event_name="ObjectRemoved:Delete"))
                continue
            except (LakeportError, OSError) as exc:
                log.warning("skipping %s: %s", raw, exc)
                continue
            changes.append(ObjectChange(bucket, key, info.etag, info.size, info.last_modified, CREATED_PUT))
        recorded = self.events.record(changes, source="watcher")
        for bucket, prefix in sorted(rescans):
            try:
                recorded += self.scan(bucket, prefix).events
            except LakeportError as exc:
                log.warning("rescan of s3://%s/%s failed: %s", bucket, prefix, exc.one_line())
        return recorded

    @staticmethod
    def _locate(backend: LocalBackend, path: Path) -> tuple[str, str] | None:
        """``(bucket, key)`` for a file under the backend's root, or None for lakeport's own files."""
        try:
            rel = path.relative_to(backend.root)
        except ValueError:
            return None
        parts = rel.parts
        if not parts or parts[0].startswith(".") or parts[0] == INTERNAL_DIR:
            return None
        bucket, key = parts[0], "/".join(parts[1:])
        if not key:
            return None
        try:
            validate_key(key, bucket)
        except InvalidInput as exc:
            log.warning("ignoring %s: %s", path, exc.one_line())
            return None
        return bucket, key
