"""Access keys: an id (``LKIA`` + 16) and a 40-character secret shown once, kept only as a salted scrypt hash.

Checking a secret costs the same whether the key exists, is inactive or the secret is wrong (the hash is computed
and compared with :func:`hmac.compare_digest` every time), and the error does not say which it was.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection

from lakeport.errors import AccessDenied, InvalidInput, LimitExceeded, NoSuchEntity
from lakeport.iam.schema import iam_access_keys, iam_users
from lakeport.iam.store import Store, new_id
from lakeport.metadata.times import iso, now, utc

MAX_KEYS = 2
ACTIVE, INACTIVE = "Active", "Inactive"
# scrypt's cost: 16 MiB and ~30-60 ms per check, so a stolen metadata DB does not give secrets away cheaply.
_N, _R, _P, _LEN = 2**14, 8, 1, 32
_DUMMY_SALT = b"lakeport-no-such-key"


def hash_secret(secret: str, salt: bytes) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=_LEN, maxmem=64 * 1024 * 1024)


def invalid_token() -> AccessDenied:
    return AccessDenied(
        "the security token included in the request is invalid",
        hint="check the access key id and secret (lakeport iam list-access-keys shows which keys are active)",
        code="InvalidClientTokenId",
    )


@dataclass(frozen=True)
class AccessKey:
    """An access key as listed: never with its secret."""

    id: str
    user_name: str
    status: str
    created: datetime
    last_used: datetime | None = None
    last_used_action: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "AccessKeyId": self.id,
            "UserName": self.user_name,
            "Status": self.status,
            "CreateDate": iso(self.created),
            "LastUsedDate": iso(self.last_used),
            "LastUsedAction": self.last_used_action,
        }


@dataclass(frozen=True)
class NewAccessKey:
    """CreateAccessKey's answer: the only time the secret exists outside the caller."""

    key: AccessKey
    secret: str

    def to_dict(self) -> dict[str, Any]:
        return {**self.key.to_dict(), "SecretAccessKey": self.secret}

    def __repr__(self) -> str:  # keep the secret out of logs and tracebacks
        return f"NewAccessKey(key={self.key!r}, secret='****')"


def _key(row: Any) -> AccessKey:
    last = utc(row.last_used_at) if row.last_used_at is not None else None
    return AccessKey(row.id, row.user_name, row.status, utc(row.created_at), last, row.last_used_action)


class AccessKeys(Store):
    """CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey, and checking a key."""

    def create_access_key(self, user: str) -> NewAccessKey:
        self._check("CreateAccessKey", self.entity_arn("user", user))
        key_id = new_id("LKIA")
        secret = secrets.token_urlsafe(30)  # 40 characters
        salt = secrets.token_bytes(16)
        digest = hash_secret(secret, salt)
        created = now()

        def work(conn: Connection) -> None:
            if conn.execute(select(iam_users.c.name).where(iam_users.c.name == user)).first() is None:
                raise NoSuchEntity(f"the user with name {user} cannot be found")
            count = conn.execute(
                select(func.count()).select_from(iam_access_keys).where(iam_access_keys.c.user_name == user)
            ).scalar_one()
            if count >= MAX_KEYS:
                raise LimitExceeded(
                    f"cannot exceed quota for AccessKeysPerUser: {MAX_KEYS} (user {user})",
                    hint="delete or rotate one: lakeport iam delete-access-key",
                )
            conn.execute(
                iam_access_keys.insert().values(
                    id=key_id, user_name=user, salt=salt, secret_hash=digest, status=ACTIVE, created_at=created
                )
            )

        self._write(work)
        return NewAccessKey(AccessKey(key_id, user, ACTIVE, created), secret)

    def list_access_keys(self, user: str) -> list[AccessKey]:
        self._check("ListAccessKeys", self.entity_arn("user", user))
        with self.db.read() as conn:
            if conn.execute(select(iam_users.c.name).where(iam_users.c.name == user)).first() is None:
                raise NoSuchEntity(f"the user with name {user} cannot be found")
            rows = conn.execute(
                select(iam_access_keys)
                .where(iam_access_keys.c.user_name == user)
                .order_by(iam_access_keys.c.created_at)
            ).all()
        return [_key(r) for r in rows]

    def get_access_key(self, key_id: str) -> AccessKey:
        """A key's status and last use (GetAccessKeyLastUsed, authorized on the owning user)."""
        self._check("GetAccessKeyLastUsed", self._owner_arn(key_id))
        with self.db.read() as conn:
            row = conn.execute(select(iam_access_keys).where(iam_access_keys.c.id == key_id)).first()
        if row is None:
            raise NoSuchEntity(f"the access key with id {key_id} cannot be found")
        return _key(row)

    def _owner_arn(self, key_id: str, user: str | None = None) -> str:
        """The ARN of the user owning ``key_id`` (``user`` when given), for authorizing calls on the key."""
        if user is None:
            with self.db.read() as conn:
                owner = conn.execute(select(iam_access_keys.c.user_name).where(iam_access_keys.c.id == key_id)).scalar()
            user = str(owner) if owner is not None else "*"
        return self.entity_arn("user", user) if user != "*" else self.arn("user", "*")

    def update_access_key(self, key_id: str, status: str, *, user: str | None = None) -> None:
        if status not in (ACTIVE, INACTIVE):
            raise InvalidInput(f"status {status!r} is not Active or Inactive")
        self._check("UpdateAccessKey", self._owner_arn(key_id, user))
        self._write(lambda conn: self._key_row(conn, key_id, user) and conn.execute(
            iam_access_keys.update().where(iam_access_keys.c.id == key_id).values(status=status)))  # fmt: skip

    def delete_access_key(self, key_id: str, *, user: str | None = None) -> None:
        self._check("DeleteAccessKey", self._owner_arn(key_id, user))
        self._write(lambda conn: self._key_row(conn, key_id, user) and conn.execute(
            delete(iam_access_keys).where(iam_access_keys.c.id == key_id)))  # fmt: skip

    def _key_row(self, conn: Connection, key_id: str, user: str | None) -> bool:
        where = iam_access_keys.c.id == key_id
        if user is not None:
            where &= iam_access_keys.c.user_name == user
        if conn.execute(select(iam_access_keys.c.id).where(where)).first() is None:
            raise NoSuchEntity(
                f"the access key with id {key_id} cannot be found" + (f" for user {user}" if user else "")
            )
        return True

    def check_secret(self, key_id: str, secret: str, *, action: str = "sts:GetCallerIdentity") -> str:
        """The user name owning an active ``key_id`` whose secret is ``secret``; InvalidClientTokenId otherwise.

        Records the key's last use (time and ``action``)."""
        with self.db.read() as conn:
            row = conn.execute(
                select(iam_access_keys.c.user_name, iam_access_keys.c.salt, iam_access_keys.c.secret_hash,
                       iam_access_keys.c.status).where(iam_access_keys.c.id == key_id)
            ).first()  # fmt: skip
        salt = bytes(row.salt) if row is not None else _DUMMY_SALT
        expected = bytes(row.secret_hash) if row is not None else bytes(_LEN)
        matches = hmac.compare_digest(hash_secret(secret, salt), expected)
        if row is None or not matches or row.status != ACTIVE:
            raise invalid_token()
        used = now()
        self.db.run_write(
            lambda conn: conn.execute(
                iam_access_keys.update()
                .where(iam_access_keys.c.id == key_id)
                .values(last_used_at=used, last_used_action=action)
            )
        )
        return str(row.user_name)
