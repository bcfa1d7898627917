"""Python script jobs (the Glue-script model): a module with a function that receives a :class:`JobContext`.

The script's ``print`` output goes to the run's log stream (``/lakeport/jobs/<job>`` / ``<run id>``; stdout as
INFO, stderr as ERROR), line by line, in batches, and still to the worker's own output (its log file under
``.lakeport/workers/``). The last lines are written even when the script raises. Output written straight to the
file descriptors (C extensions, subprocesses) reaches the worker's log file only.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from lakeport.errors import InvalidInput
from lakeport.etl.nodes import Sink, Source
from lakeport.sqltext import ident

if TYPE_CHECKING:
    import duckdb

    from lakeport.etl.runner import JobRunner


def run_script(runner: JobRunner) -> None:
    """Load the job's script and call its entry function with a context, its output captured into the log."""
    definition = runner.definition
    path = Path(definition.script)
    spec = importlib.util.spec_from_file_location(f"lakeport_job_{definition.name.replace('-', '_')}", path)
    if spec is None or spec.loader is None:
        raise InvalidInput(f"job {definition.name}: cannot load script {path}")
    module = importlib.util.module_from_spec(spec)
    logs = runner.env.logs
    group, stream = f"/lakeport/jobs/{definition.name}", runner.run_id  # as Jobs.start_job_run names them
    fields = {"run_id": runner.run_id}

    def sink(lines: list[tuple[int, str, str]]) -> None:
        logs.put_lines(group, stream, lines, fields)

    own_log = runner._log
    with captured_output(sink) as capture:
        # the runner's own lines (source …, sink …) and ctx.log go through the same queue, so the stream keeps
        # the order in which things happened
        runner._log = capture.line
        try:
            spec.loader.exec_module(module)
            entry = getattr(module, definition.entry, None)
            if not callable(entry):
                raise InvalidInput(f"job {definition.name}: {path} has no function {definition.entry}(ctx)")
            entry(JobContext(runner))
        finally:
            runner._log = own_log


class OutputCapture:
    """Lines of captured output, queued with their time and written in batches by a flusher thread: every
    ``interval`` seconds (so a reader tailing the stream sees them live), sooner once ``max_lines`` wait, and
    on close. The script's thread only queues; it never waits for the database.

    A script that prints a line per row costs one short transaction per batch, not per line (bench/logs.py checks
    that logging slows a job by less than 5 %)."""

    def __init__(
        self,
        sink: Callable[[list[tuple[int, str, str]]], None],
        *,
        interval: float = 1.0,
        max_lines: int = 5000,
    ) -> None:
        self.sink = sink
        self.interval = interval
        self.max_lines = max_lines
        self._pending: list[tuple[int, str, str]] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="lakeport-output-capture", daemon=True)
        self._thread.start()

    def line(self, level: str, message: str) -> None:
        with self._lock:
            self._pending.append((time.time_ns(), level, message))
            full = len(self._pending) == self.max_lines
        if full:  # once, when the queue reaches the mark: the flusher takes everything queued by then
            self._wake.set()

    def lines(self, level: str, lines: list[str]) -> None:
        """Queue several lines of one write (one time stamp)."""
        at = time.time_ns()
        with self._lock:
            self._pending.extend((at, level, line) for line in lines)
            full = len(self._pending) >= self.max_lines
        if full:
            self._wake.set()

    def flush(self) -> None:
        with self._write_lock:  # one batch at a time, in order
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return
            try:
                self.sink(batch)
            except BaseException:
                with self._lock:  # not lost: tried again with the next batch
                    self._pending[:0] = batch
                raise

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._closing:
                return
            with contextlib.suppress(Exception):  # the lines stay queued; the next batch takes them
                self.flush()

    def close(self) -> None:
        """Stop the flusher and write what is left; a failure to write is reported, never raised (it must not
        hide the script's own exception)."""
        self._closing = True
        self._wake.set()
        self._thread.join(timeout=30)
        try:
            self.flush()
        except Exception as exc:
            print(f"lakeport: {len(self._pending)} captured lines not logged: {exc}", file=sys.__stderr__)


class _Lines(io.TextIOBase):
    """A text stream that hands complete lines to the capture and echoes everything to the real stream."""

    def __init__(self, capture: OutputCapture, level: str, echo: TextIO | None) -> None:
        self.capture = capture
        self.level = level
        self.echo = echo
        self.partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.echo is not None:
            try:  # noqa: SIM105 (contextlib.suppress would cost an object per write: print() writes twice a line)
                self.echo.write(text)
            except Exception:  # the echo is a courtesy: a closed worker log must not break the script
                pass
        if "\n" not in text:  # print() writes the text and its newline separately
            self.partial += text
            return len(text)
        *lines, self.partial = (self.partial + text).split("\n")
        self.capture.lines(self.level, lines)
        return len(text)

    def flush(self) -> None:
        if self.echo is not None:
            with contextlib.suppress(Exception):
                self.echo.flush()

    def end(self) -> None:
        if self.partial:
            self.capture.line(self.level, self.partial)
            self.partial = ""
        self.flush()


@contextlib.contextmanager
def captured_output(
    sink: Callable[[list[tuple[int, str, str]]], None], *, echo: bool = True
) -> Iterator[OutputCapture]:
    """stdout (INFO) and stderr (ERROR), line by line, into ``sink`` in batches of ``(time, level, line)``;
    with ``echo`` also to the real stdout/stderr (a worker's log file). Whatever happens in the block, the last
    partial lines and the queue are written before it ends (an exception still propagates)."""
    capture = OutputCapture(sink)
    # the process's own streams (file descriptors 1 and 2: a worker's log file), whatever sys.stdout is now
    out = _Lines(capture, "INFO", (sys.__stdout__ or sys.stdout) if echo else None)
    err = _Lines(capture, "ERROR", (sys.__stderr__ or sys.stderr) if echo else None)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            yield capture
    finally:
        out.end()
        err.end()
        capture.close()


class JobContext:
    """What a Python job's function receives (Glue's ``GlueContext`` + ``getResolvedOptions``, simplified)."""

    def __init__(self, runner: JobRunner) -> None:
        self._runner = runner
        self.args: dict[str, str] = {k: v for k, v in runner.definition.parameters.items() if v is not None}
        self.run_id = runner.run_id
        self._count = 0

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        assert self._runner.con is not None
        return self._runner.con

    def read(
        self,
        path: str = "",
        *,
        table: str = "",
        format: str = "csv",
        options: Mapping[str, Any] | None = None,
        columns: Mapping[str, str] | None = None,
        name: str | None = None,
    ) -> str:
        """Read staging files (or a catalog table) once; returns the name to use in ``sql``."""
        self._count += 1
        node = Source(
            id=name or f"source_{self._count}",
            path=path,
            table=table,
            format=format,
            options=dict(options or {}),
            columns=dict(columns or {}),
        )
        node.check(self._runner.definition.name)
        self._runner.read_source(node)
        return node.id

    def sql(self, query: str, *, name: str | None = None) -> str:
        """A view over earlier names; returns its name."""
        self._count += 1
        view = name or f"view_{self._count}"
        assert self._runner.compiler is not None
        self._runner.compiler.run(f"CREATE OR REPLACE TEMP VIEW {ident(view)} AS {query}", defines=view)
        return view

    def write(
        self,
        source: str,
        table: str,
        *,
        mode: str = "append",
        partition_by: Sequence[str] = (),
        keys: Sequence[str] = (),
        compression: str = "snappy",
    ) -> dict[str, Any]:
        """Write a name (from ``read``/``sql``) to a warehouse table in one commit; returns the sink's metrics."""
        self._count += 1
        sink = Sink(
            id=f"sink_{self._count}",
            inputs=(source,),
            table=table,
            mode=mode,
            partition_by=tuple(partition_by),
            keys=tuple(keys),
            compression=compression,
        )
        sink.check(self._runner.definition.name)
        assert self._runner.compiler is not None
        self._runner.compiler.transform(sink)
        if self._runner._consumed and self._runner.bookmark_option == "enable":
            self._runner.bookmarks.record_pending(self._runner.run_id, self._runner._consumed)
            self._runner._consumed = []
        self._runner.write_sink(sink)
        return dict(self._runner.metrics.sinks[sink.id])

    def log(self, message: str) -> None:
        self._runner.log(message)
