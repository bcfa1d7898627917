"""A real S3-compatible endpoint on loopback for the tests: moto in server mode, started by the tests themselves."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

ACCESS_KEY = "lakeport-test"
SECRET_KEY = "lakeport-test-secret"


@contextmanager
def moto_server() -> Iterator[str]:
    """Start moto's S3 server on 127.0.0.1 (a free port) and yield its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
