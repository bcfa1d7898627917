"""Who is calling: an access key (HTTP Basic ``ACCESS_KEY_ID:SECRET``, as ``curl -u`` sends it) or a console session.

Checking a secret costs scrypt's 30-60 ms, so a successful check is remembered for ``KEY_CACHE_SECONDS`` under a
keyed digest of the secret (never the secret itself); a key made inactive or deleted stops working within that
time. A secret is checked by one request at a time (the others wait for that answer instead of each running
scrypt), and a remembered check used in its last ``REFRESH_AHEAD_SECONDS`` is renewed in the background, so a busy
client never waits for scrypt after its first request. Console sessions are random tokens kept in this process (a
restart logs everyone out).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lakeport.errors import AccessDenied, LakeportError

if TYPE_CHECKING:
    from fastapi import Request

    from lakeport.iam import IAM, Principal

KEY_CACHE_SECONDS = 30.0
REFRESH_AHEAD_SECONDS = 5.0
SESSION_SECONDS = 12 * 3600.0
SESSION_COOKIE = "lakeport_session"


class NotAuthenticated(LakeportError):
    """No credentials, or credentials that are not valid: HTTP 401."""

    http_status = 401
    default_code = "UnrecognizedClientException"


@dataclass
class _Remembered:
    principal: Principal
    until: float


class Authenticator:
    def __init__(self, iam: IAM) -> None:
        self.iam = iam
        self._pepper = secrets.token_bytes(32)  # this process's key for the digests of remembered secrets
        self._keys: dict[tuple[str, bytes], _Remembered] = {}
        self._sessions: dict[str, _Remembered] = {}
        self._gates: dict[tuple[str, bytes], threading.Lock] = {}  # one scrypt per secret at a time
        self._refreshing: set[tuple[str, bytes]] = set()
        self._lock = threading.Lock()

    def principal(self, request: Request) -> Principal:
        """The caller, or NotAuthenticated (401) saying what to send."""
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            key_id, secret = _basic(header)
            return self.with_key(key_id, secret)
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            return self.with_session(token)
        raise NotAuthenticated(
            "this request has no credentials",
            hint="send an access key as HTTP Basic auth (curl -u ACCESS_KEY_ID:SECRET), or log in to the console",
            code="MissingAuthenticationToken",
        )

    def remembered(self, request: Request) -> Principal | None:
        """The caller when their credentials are remembered and not about to expire (no scrypt, no I/O: safe on
        the event loop); None when :meth:`principal` has work to do."""
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                key_id, secret = _basic(header)
            except NotAuthenticated:
                return None
            entry = (key_id, hmac.new(self._pepper, secret.encode(), hashlib.sha256).digest())
            with self._lock:
                found = self._keys.get(entry)
            if found is None or found.until - time.monotonic() < REFRESH_AHEAD_SECONDS:
                return None
            return found.principal
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            with self._lock:
                found = self._sessions.get(token)
            if found is not None and found.until > time.monotonic():
                return found.principal
        return None

    def with_key(self, key_id: str, secret: str) -> Principal:
        entry = (key_id, hmac.new(self._pepper, secret.encode(), hashlib.sha256).digest())
        now = time.monotonic()
        with self._lock:
            found = self._keys.get(entry)
            if found is not None and found.until > now:
                if found.until - now < REFRESH_AHEAD_SECONDS and entry not in self._refreshing:
                    self._refreshing.add(entry)
                    threading.Thread(
                        target=self._refresh, args=(entry, key_id, secret), name="lakeport-key-refresh", daemon=True
                    ).start()
                return found.principal
            gate = self._gates.setdefault(entry, threading.Lock())
        with gate:
            with self._lock:  # answered while this request waited for the gate
                found = self._keys.get(entry)
                if found is not None and found.until > time.monotonic():
                    return found.principal
            try:
                principal = self.iam.authenticate(key_id, secret)
            except AccessDenied as exc:
                raise NotAuthenticated(exc.message, hint=exc.hint, code=exc.code) from None
            else:
                with self._lock:
                    self._keys[entry] = _Remembered(principal, time.monotonic() + KEY_CACHE_SECONDS)
                return principal
            finally:
                with self._lock:
                    self._gates.pop(entry, None)  # wrong secrets leave nothing behind

    def _refresh(self, entry: tuple[str, bytes], key_id: str, secret: str) -> None:
        """Check a remembered secret again before it is forgotten; a key no longer valid is forgotten at once."""
        try:
            principal = self.iam.authenticate(key_id, secret)
        except Exception:
            with self._lock:
                self._keys.pop(entry, None)
        else:
            with self._lock:
                self._keys[entry] = _Remembered(principal, time.monotonic() + KEY_CACHE_SECONDS)
        finally:
            with self._lock:
                self._refreshing.discard(entry)

    def with_session(self, token: str) -> Principal:
        with self._lock:
            found = self._sessions.get(token)
            if found is not None and found.until > time.monotonic():
                return found.principal
            self._sessions.pop(token, None)
        raise NotAuthenticated(
            "the console session has expired or is unknown", hint="log in again", code="ExpiredToken"
        )

    def login(self, key_id: str, secret: str) -> str:
        """A new console session for the owner of this access key; its token (the cookie's value)."""
        principal = self.with_key(key_id, secret)
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[token] = _Remembered(principal, time.monotonic() + SESSION_SECONDS)
        return token

    def logout(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(token, None)


def _basic(header: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(header.split(None, 1)[1], validate=True).decode()
    except (ValueError, IndexError):
        decoded = ""
    key_id, sep, secret = decoded.partition(":")
    if not sep or not key_id:
        raise NotAuthenticated(
            "the Authorization header is not HTTP Basic ACCESS_KEY_ID:SECRET", code="IncompleteSignature"
        )
    return key_id, secret
