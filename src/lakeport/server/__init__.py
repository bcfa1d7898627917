"""The lakeport server (``lakeport serve``): the HTTP API under ``/api/v1``, ``/metrics``, and the background work a
long-running lake needs (the triggers' scheduler, resuming interrupted executions, alarm evaluations)."""

from lakeport.server.app import create_app
from lakeport.server.runtime import Server

__all__ = ["Server", "create_app"]
