"""The identity a request runs as."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """A user or an assumed role, named by its ARN (``arn:aws:iam::000000000000:user/admin``)."""

    arn: str
    name: str
    kind: str = "user"

    def __str__(self) -> str:
        return self.arn
