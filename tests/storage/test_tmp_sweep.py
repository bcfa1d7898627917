"""Uploads abandoned by killed writers are swept from ``objects/.lakeport/tmp`` by the next writer."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

from lakeport.processes import HOST
from lakeport.storage.local import LocalBackend


def test_the_next_put_sweeps_the_temporary_files_of_dead_writers_on_this_host(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "objects", fsync=False)
    backend.create_bucket("bkt")
    tmp = tmp_path / "objects" / ".lakeport" / "tmp"
    tmp.mkdir(parents=True)
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()  # its pid is gone now
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        parts = {
            "dead": tmp / f"{finished.pid}-aaaa@{HOST}.part",
            "alive": tmp / f"{alive.pid}-bbbb@{HOST}.part",
            "mine": tmp / f"{os.getpid()}-cccc@{HOST}.part",
            "elsewhere": tmp / f"{finished.pid}-dddd@another-host.part",
            "old": tmp / "eeee.part",  # an older lakeport's name: swept only after a day
            "young": tmp / "ffff.part",
        }
        for path in parts.values():
            path.write_bytes(b"half an upload")
        day_ago = time.time() - 2 * 24 * 3600
        os.utime(parts["old"], (day_ago, day_ago))

        backend.put_object("bkt", "k", io.BytesIO(b"whole"))

        left = {name for name, path in parts.items() if path.exists()}
        assert left == {"alive", "mine", "elsewhere", "young"}
        assert [o.key for o in backend.list_objects("bkt").objects] == ["k"]
    finally:
        alive.kill()
        alive.wait()
