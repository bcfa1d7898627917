"""What IAM's stores share: the metadata DB, the account, names and ids, and the policy-generation counter.

Every change to users, groups, roles, policies or attachments bumps ``iam_generation`` in ``lake_info`` within the
same transaction; authorization caches parsed policies per principal and drops them when the counter moves.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from lakeport.errors import ConfigError, EntityAlreadyExists, InvalidInput
from lakeport.metadata import MetadataDB
from lakeport.metadata.schema import lake_info

T = TypeVar("T")

GENERATION = "iam_generation"
_NAME = re.compile(r"^[\w+=,.@-]+$")
_PATH = re.compile(r"^/([\x21-\x7e]*/)?$")
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def new_id(prefix: str) -> str:
    """An AWS-shaped unique id: ``prefix`` (AIDA, AROA, …) and 16 upper-case base32 characters."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def check_entity_name(kind: str, name: str, max_length: int = 64) -> str:
    if not name or len(name) > max_length or not _NAME.match(name):
        raise InvalidInput(
            f"{kind} name {name!r} is not valid",
            hint=f"use 1-{max_length} letters, digits and + = , . @ _ -",
        )
    return name


def check_path(path: str) -> str:
    if not _PATH.match(path) or len(path) > 512:
        raise InvalidInput(f"path {path!r} is not valid", hint="a path starts and ends with /, e.g. /analysts/")
    return path


@dataclass
class _Generation:
    """The last policy generation read and when; one object shared by an IAM and its per-principal views."""

    value: int = -1
    checked: float = 0.0


class Store:
    """The state every IAM method group works on; :class:`lakeport.iam.IAM` is one of these."""

    account_id: str
    _db: MetadataDB | None
    _seen: _Generation
    _lock: threading.Lock
    refresh_seconds: float = 0.5

    def _init_store(self, account_id: str, db: MetadataDB | None) -> None:
        self.account_id = account_id
        self._db = db
        self._seen = _Generation()
        self._lock = threading.Lock()

    def _check(self, action: str, resource: str) -> None:
        """Authorize the caller for one IAM operation (``action`` without its ``iam:`` prefix); IAM decides how."""
        raise NotImplementedError

    @property
    def db(self) -> MetadataDB:
        if self._db is None:
            raise ConfigError(
                "this IAM has no metadata database: users, roles and policies need a lake",
                hint="use lake.iam from Lake.open()",
            )
        return self._db

    def arn(self, kind: str, name: str, path: str = "/") -> str:
        return f"arn:aws:iam::{self.account_id}:{kind}{path}{name}"

    def entity_arn(self, kind: str, name: str) -> str:
        """The ARN of a user, group, role or managed policy as stored (with its path), or as it would be created
        at path ``/`` when there is none (so a denial names the resource a policy would)."""
        from lakeport.iam.schema import iam_groups, iam_policies, iam_roles, iam_users

        table = {"user": iam_users, "group": iam_groups, "role": iam_roles, "policy": iam_policies}[kind]
        if self._db is not None:
            with self._db.read() as conn:
                found = conn.execute(select(table.c.arn).where(table.c.name == name)).scalar()
            if found is not None:
                return str(found)
        return self.arn(kind, name)

    # ---- the policy-generation counter

    def _write(self, work: Callable[[Connection], T], *, exists: str | None = None) -> T:
        """Run ``work`` in a write transaction that also bumps the generation (an IAM change)."""

        def change(conn: Connection) -> T:
            result = work(conn)
            current = conn.execute(select(lake_info.c.value).where(lake_info.c.name == GENERATION)).scalar()
            if current is None:
                conn.execute(lake_info.insert().values(name=GENERATION, value="1"))
            else:
                conn.execute(
                    lake_info.update().where(lake_info.c.name == GENERATION).values(value=str(int(current) + 1))
                )
            return result

        try:
            result = self.db.run_write(change)
        except IntegrityError as exc:
            if exists is None:
                raise
            raise EntityAlreadyExists(exists) from exc
        self._seen.checked = 0.0  # see the change at once in this process
        return result

    def generation(self) -> int:
        """The policy generation, read from the DB at most every ``refresh_seconds`` (other processes' changes)."""
        seen = self._seen
        clock = time.monotonic()
        if clock - seen.checked < self.refresh_seconds and seen.value >= 0:
            return seen.value
        if self._db is None:
            seen.value = 0
        else:
            value = self._db.get_info(GENERATION)
            seen.value = int(value) if value is not None else 0
        seen.checked = clock
        return seen.value
