"""Python script jobs (the Glue-script model): a module with a function that receives a :class:`JobContext`.

The script's ``print`` output goes to the run's log stream (stdout as INFO, stderr as ERROR).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    with captured_output(runner.log):
        spec.loader.exec_module(module)
        entry = getattr(module, definition.entry, None)
        if not callable(entry):
            raise InvalidInput(f"job {definition.name}: {path} has no function {definition.entry}(ctx)")
        entry(JobContext(runner))


@contextlib.contextmanager
def captured_output(log: Callable[[str, str], None]) -> Iterator[None]:
    """stdout and stderr, line by line, into ``log(message, level)``."""

    class _Lines(io.TextIOBase):
        def __init__(self, level: str) -> None:
            self.level = level
            self.buffer = ""

        def write(self, text: str) -> int:
            self.buffer += text
            while "\n" in self.buffer:
                line, self.buffer = self.buffer.split("\n", 1)
                log(line, self.level)
            return len(text)

    out, err = _Lines("INFO"), _Lines("ERROR")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        yield
    for stream in (out, err):
        if stream.buffer:
            log(stream.buffer, stream.level)


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
