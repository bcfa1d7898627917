"""Generate the Spotify sample straight into the lake's staging area."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakeport.datasets.staging import LandedFile, resolve_destination, upload_batch

if TYPE_CHECKING:
    from lakeport.datasets.spotify.generator import Progress, SpotifyGenerator
    from lakeport.storage import Storage


@dataclass(frozen=True)
class PublishedSample:
    to: str
    scale: float
    seed: int
    profile: str
    seconds: float
    rows: dict[str, int]
    files: list[LandedFile]

    def to_dict(self) -> dict[str, Any]:
        return {
            "to": self.to,
            "scale": self.scale,
            "seed": self.seed,
            "profile": self.profile,
            "seconds": round(self.seconds, 3),
            "files": [f.to_dict() | {"rows": self.rows[f.name]} for f in self.files],
        }


def generate_into_lake(
    storage: Storage, generator: SpotifyGenerator, to: str, *, progress: Progress | None = None
) -> PublishedSample:
    """Generate into a temporary folder, then upload every file (all or nothing) under ``to``."""
    dest = resolve_destination(to, storage.default_bucket)
    with tempfile.TemporaryDirectory(prefix="lakeport-spotify-") as tmp:
        result = generator.generate(Path(tmp), progress=progress)
        sizes = {f.name: f.size for f in result.files}
        done: dict[str, int] = {}

        def uploaded(name: str, n: int) -> None:
            done[name] = done.get(name, 0) + n
            if progress:
                progress(f"upload {name}", done[name], sizes[name])

        landed = upload_batch(storage, [(f.name, f.path) for f in result.files], dest, progress=uploaded)
    return PublishedSample(
        dest.uri,
        result.scale,
        result.seed,
        result.profile,
        result.seconds,
        {f.name: f.rows for f in result.files},
        landed,
    )
