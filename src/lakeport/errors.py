"""The one exception tree of lakeport.

Every error a user can see is a :class:`LakeportError`: a one-line message that names the thing at fault
(file, line, column, table, bucket, key, policy), an optional hint saying what to do next, an AWS-style
``code`` and the HTTP status the API will answer with. Front ends render these in one place each.
"""

from __future__ import annotations

from typing import Any, ClassVar


class LakeportError(Exception):
    """Root of every error lakeport raises on purpose."""

    http_status: ClassVar[int] = 500
    retryable: ClassVar[bool] = False
    default_code: ClassVar[str] = "InternalError"

    def __init__(self, message: str, *, hint: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code or self.default_code

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape every front end uses for an error."""
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "hint": self.hint,
                "type": type(self).__name__,
                "retryable": self.retryable,
            }
        }

    def one_line(self) -> str:
        """``message (hint: ...)`` on one line, for terminals and logs."""
        text = " ".join(self.message.split())
        if self.hint:
            text += f" (hint: {' '.join(self.hint.split())})"
        return text


class NotFound(LakeportError):
    http_status = 404
    default_code = "EntityNotFoundException"


class AlreadyExists(LakeportError):
    http_status = 409
    default_code = "AlreadyExistsException"


class InvalidInput(LakeportError):
    http_status = 400
    default_code = "InvalidInputException"


class AccessDenied(LakeportError):
    http_status = 403
    default_code = "AccessDeniedException"


class Conflict(LakeportError):
    http_status = 409
    default_code = "ConcurrentModificationException"


class MissingDependency(LakeportError):
    http_status = 501
    default_code = "MissingDependency"


class ServiceUnavailable(LakeportError):
    """A backend (object store, metadata database) did not answer; trying again may work."""

    http_status = 503
    retryable = True
    default_code = "ServiceUnavailable"


class LakeNotFound(NotFound):
    default_code = "LakeNotFound"


class ConfigError(InvalidInput):
    default_code = "InvalidConfiguration"


class NoSuchBucket(NotFound):
    default_code = "NoSuchBucket"


class NoSuchKey(NotFound):
    default_code = "NoSuchKey"


class BucketAlreadyExists(AlreadyExists):
    default_code = "BucketAlreadyOwnedByYou"


class BucketNotEmpty(Conflict):
    default_code = "BucketNotEmpty"


class InvalidBucketName(InvalidInput):
    default_code = "InvalidBucketName"


class InvalidKey(InvalidInput):
    default_code = "InvalidObjectKey"


class NoSuchEntity(NotFound):
    """IAM: the user, group, role, policy or access key does not exist."""

    default_code = "NoSuchEntity"


class EntityAlreadyExists(AlreadyExists):
    default_code = "EntityAlreadyExists"


class LimitExceeded(Conflict):
    default_code = "LimitExceeded"


class DeleteConflict(Conflict):
    """IAM: the entity still has attached things (access keys, policies, members) to remove first."""

    default_code = "DeleteConflict"


def missing_dependency(package: str, extra: str, purpose: str) -> MissingDependency:
    """The error for an optional dependency that is not installed."""
    return MissingDependency(
        f"{purpose} needs the Python package '{package}', which is not installed",
        hint=f"pip install 'lakeport[{extra}]'",
    )


__all__ = [
    "AccessDenied",
    "AlreadyExists",
    "BucketAlreadyExists",
    "BucketNotEmpty",
    "ConfigError",
    "Conflict",
    "DeleteConflict",
    "EntityAlreadyExists",
    "InvalidBucketName",
    "InvalidInput",
    "InvalidKey",
    "LakeNotFound",
    "LakeportError",
    "LimitExceeded",
    "MissingDependency",
    "NoSuchBucket",
    "NoSuchEntity",
    "NoSuchKey",
    "NotFound",
    "ServiceUnavailable",
    "missing_dependency",
]
