"""``lakeport serve``: uvicorn serving the application, and the lake's background work in a thread beside it.

The background thread runs the triggers' scheduler loop (rules, schedules, the folder scan), which also resumes
state-machine executions whose runner died and evaluates alarms. Stopping the server stops the loop, which gives
up its lease so another scheduler can take over at once.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

import uvicorn

from lakeport.server.app import create_app

if TYPE_CHECKING:
    from lakeport.lake import Lake

log = logging.getLogger(__name__)


class Server:
    """The HTTP server of one lake, with its background loop (``scheduler=False`` leaves the loop out)."""

    def __init__(self, lake: Lake, *, host: str = "127.0.0.1", port: int = 8080, scheduler: bool = True) -> None:
        self.lake = lake
        self.host = host
        self.port = port
        self.stop = threading.Event()
        self.background: dict[str, Any] = {"scheduler": "off"}
        self._scheduler = scheduler
        self._thread: threading.Thread | None = None
        config = uvicorn.Config(
            create_app(lake, background=self.background), host=host, port=port, log_level="warning", lifespan="off"
        )
        self.uvicorn = uvicorn.Server(config)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start_background(self) -> None:
        if not self._scheduler or self._thread is not None:
            return
        from lakeport.triggers import scheduler_for

        dispatcher = scheduler_for(self.lake)
        self.background["scheduler"] = "running"

        def loop() -> None:
            try:
                dispatcher.run(self.stop, on_pass=self._note)
            except Exception as exc:  # the API stays up; the health route says the loop stopped
                log.exception("the scheduler loop stopped")
                self.background["scheduler"] = f"stopped: {type(exc).__name__}: {exc}"
            else:
                self.background["scheduler"] = "stopped"

        self._thread = threading.Thread(target=loop, name="lakeport-scheduler", daemon=True)
        self._thread.start()

    def _note(self, report: Any) -> None:
        self.background["last_pass"] = report.to_dict()

    def run(self) -> None:
        """Serve until interrupted (Ctrl-C or SIGTERM, which uvicorn handles), then stop the background loop."""
        self.start_background()
        try:
            self.uvicorn.run()
        finally:
            self.stop.set()
            if self._thread is not None:
                self._thread.join(timeout=10)
