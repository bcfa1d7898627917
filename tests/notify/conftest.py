"""Fixtures of the notify tests: a lake with millisecond retry delays, and a real loopback HTTP receiver."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from lakeport import Lake
from lakeport.notify import signing

FAST = {
    "notify.num_retries": "3",
    "notify.min_delay_seconds": "0.01",
    "notify.max_delay_seconds": "0.04",
    "notify.timeout_seconds": "5",
}


@pytest.fixture(scope="session")
def key_pairs() -> list[signing.KeyPair]:
    """Three real topic keys, made once: RSA key generation costs a noticeable part of a second on a busy machine."""
    return [signing.new_key_pair(f"test-topic-{i}") for i in range(3)]


@pytest.fixture(autouse=True)
def _reuse_key_pairs(monkeypatch: pytest.MonkeyPatch, key_pairs: list[signing.KeyPair]) -> None:
    """Topics take their keys in turn from the session's three (consecutive topics never share one)."""
    turn = itertools.cycle(key_pairs)
    monkeypatch.setattr(signing, "new_key_pair", lambda common_name: next(turn))


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake", values=FAST)
    yield lake
    lake.notify.drain(timeout=30)
    lake.close()


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: str

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP endpoint on loopback that answers POSTs with the statuses queued in ``fail_with`` (then 200)."""

    url: str = ""
    requests: list[Request] = field(default_factory=list)
    fail_with: list[int] = field(default_factory=list)
    always: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of_type(self, kind: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.headers.get("x-amz-sns-message-type") == kind]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode("utf-8")
            with state.lock:
                state.requests.append(Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status = state.always or (state.fail_with.pop(0) if state.fail_with else 200)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    server.shutdown()
    server.server_close()
