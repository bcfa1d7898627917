"""The access-key check behind every API request: remembered, checked once at a time, renewed ahead of expiry."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lakeport import Lake
from lakeport.iam import Principal
from lakeport.server.api import auth
from lakeport.server.api.auth import Authenticator, NotAuthenticated


class CountingIAM:
    """The lake's real IAM, counting the secret checks (scrypt) the authenticator asks for."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self.calls = 0
        self._lock = threading.Lock()

    def authenticate(self, key_id: str, secret: str) -> Principal:
        with self._lock:
            self.calls += 1
        return self.lake.iam.authenticate(key_id, secret)


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    yield lake
    lake.close()


def _key(lake: Lake) -> tuple[str, str]:
    lake.iam.create_user("ann")
    key = lake.iam.create_access_key("ann")
    return key.key.id, key.secret


def _wait(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_twenty_requests_at_once_with_a_new_secret_check_it_once(lake: Lake) -> None:
    key_id, secret = _key(lake)
    iam = CountingIAM(lake)
    authenticator = Authenticator(iam)  # type: ignore[arg-type]
    start = threading.Barrier(20)
    seen: list[str] = []

    def call() -> None:
        start.wait()
        seen.append(authenticator.with_key(key_id, secret).arn)

    threads = [threading.Thread(target=call) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [seen[0]] * 20
    assert seen[0].endswith(":user/ann")
    assert iam.calls == 1


def test_a_check_near_its_end_is_renewed_in_the_background_and_a_disabled_key_is_then_refused(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_id, secret = _key(lake)
    iam = CountingIAM(lake)
    authenticator = Authenticator(iam)  # type: ignore[arg-type]
    authenticator.with_key(key_id, secret)
    assert iam.calls == 1
    (entry,) = authenticator._keys
    authenticator._keys[entry].until = time.monotonic() + 1  # within the last REFRESH_AHEAD_SECONDS

    assert authenticator.with_key(key_id, secret).arn.endswith(":user/ann")  # answered at once, from memory
    _wait(lambda: iam.calls == 2 and not authenticator._refreshing)
    assert authenticator._keys[entry].until > time.monotonic() + auth.KEY_CACHE_SECONDS - 5

    lake.iam.update_access_key(key_id, "Inactive", user="ann")
    authenticator._keys[entry].until = time.monotonic() + 1
    authenticator.with_key(key_id, secret)  # still remembered: the renewal runs beside it…
    _wait(lambda: iam.calls == 3 and not authenticator._refreshing)
    assert entry not in authenticator._keys  # …and, the key being inactive now, forgets it
    with pytest.raises(NotAuthenticated):
        authenticator.with_key(key_id, secret)


def test_wrong_secrets_are_refused_every_time_and_leave_nothing_behind(lake: Lake) -> None:
    key_id, _ = _key(lake)
    iam = CountingIAM(lake)
    authenticator = Authenticator(iam)  # type: ignore[arg-type]
    for n in range(3):
        with pytest.raises(NotAuthenticated):
            authenticator.with_key(key_id, f"wrong-{n}")
    assert iam.calls == 3
    assert authenticator._keys == {}
    assert authenticator._gates == {}
