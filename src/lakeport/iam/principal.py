"""The identity a request runs as."""

from __future__ import annotations

from dataclasses import dataclass

USER, ASSUMED_ROLE, SERVICE = "user", "assumed-role", "service"


@dataclass(frozen=True)
class Principal:
    """A user, an assumed role or an AWS service, named by its ARN (``arn:aws:iam::000000000000:user/admin``).

    ``kind`` is ``user``, ``assumed-role`` (ARN ``arn:aws:sts::<account>:assumed-role/<role>/<session>``; ``name``
    is the role's name) or ``service`` (ARN and name ``glue.amazonaws.com``). ``source_ip`` is where the request
    came from, when a front end knows it (``aws:SourceIp``).
    """

    arn: str
    name: str
    kind: str = USER
    session: str | None = None
    source_ip: str | None = None

    def __str__(self) -> str:
        return self.arn


def service_principal(service: str) -> Principal:
    """An AWS service acting on its own (``glue.amazonaws.com``), as named in a role's trust policy."""
    return Principal(arn=service, name=service, kind=SERVICE)
