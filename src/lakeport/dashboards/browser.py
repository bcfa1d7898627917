"""The headless Chromium that renders PNG and PDF exports: the system's browser (never a downloaded one), driven
by Playwright (the optional ``lakeport[export]`` extra)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lakeport.errors import MissingDependency

ENVIRONMENT = "LAKEPORT_CHROMIUM"
CANDIDATES = ("chromium", "chromium-browser")


class BrowserMissing(MissingDependency):
    """No Chromium (or no Playwright) to render an export with."""

    default_code = "BrowserMissing"


def chromium_path() -> str:
    """``$LAKEPORT_CHROMIUM``, else ``chromium`` or ``chromium-browser`` on the PATH."""
    explicit = os.environ.get(ENVIRONMENT)
    if explicit:
        if not Path(explicit).is_file():
            raise BrowserMissing(f"{ENVIRONMENT}={explicit} is not a file", hint="point it at a Chromium executable")
        return explicit
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserMissing(
        "no Chromium to render PNG and PDF exports with",
        hint=f"install it: apt-get install chromium (or set {ENVIRONMENT})",
    )


def require_playwright() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        raise BrowserMissing(
            "PNG and PDF exports need the playwright package", hint="pip install 'lakeport[export]'"
        ) from None
