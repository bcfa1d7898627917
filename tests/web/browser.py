"""A real Chromium for the console's browser tests: Debian's package, driven by Playwright (no browser download).

``chromium_path()`` finds the browser, installing the Debian package when it is missing (CI starts from a clean
machine; the tests never skip for want of a browser)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser")


def chromium_path() -> str:
    explicit = os.environ.get("LAKEPORT_CHROMIUM")
    if explicit:
        return explicit
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    _install()
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("chromium is not installed and could not be installed with apt-get (set LAKEPORT_CHROMIUM)")


def _install() -> None:
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    lock = Path("/tmp/lakeport-chromium-install.lock")
    with lock.open("w") as handle:  # two xdist workers must not run apt-get at once
        import fcntl

        fcntl.flock(handle, fcntl.LOCK_EX)
        if any(shutil.which(name) for name in CANDIDATES):
            return
        subprocess.run([*sudo, "apt-get", "update", "-q"], env=env, check=False, capture_output=True)
        done = subprocess.run(
            [*sudo, "apt-get", "install", "-y", "-q", "chromium"], env=env, check=False, capture_output=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"apt-get install chromium failed: {done.stderr.decode(errors='replace')[-500:]}")
