"""``lake.functions``: registered functions (Lambda's role) — a name bound to a Python handler ``module:function``.

Functions live in the metadata DB (table ``functions``). ``invoke`` calls the handler as Lambda does,
``handler(event, context)``, and answers with Invoke's shape: ``StatusCode``, ``Payload`` and, when the handler
raised, timed out or returned something that is not JSON, ``FunctionError: "Unhandled"`` with Lambda's error
payload. ARNs are ``arn:aws:lambda:<region>:<account>:function:<name>``; every operation is authorized with the
Lambda action names (``lambda:CreateFunction``, ``lambda:InvokeFunction``, …).
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from lakeport.errors import AlreadyExists, InvalidInput, NotFound
from lakeport.functions import handlers
from lakeport.functions.schema import functions as functions_table
from lakeport.iam import IAM, Principal
from lakeport.metadata import MetadataDB
from lakeport.metadata.times import iso, now, utc

__all__ = ["Function", "FunctionAlreadyExists", "FunctionNotFound", "Functions", "InvokeResult"]

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ARN = re.compile(r"^arn:aws[\w-]*:lambda:[\w-]*:\d*:function:([^:]+)(?::([^:]+))?$")
MAX_TIMEOUT = 900  # seconds, as Lambda
LATEST = "$LATEST"


class FunctionNotFound(NotFound):
    default_code = "ResourceNotFoundException"


class FunctionAlreadyExists(AlreadyExists):
    default_code = "ResourceConflictException"


class InvalidFunctionParameter(InvalidInput):
    default_code = "InvalidParameterValueException"


@dataclass(frozen=True)
class Function:
    name: str
    arn: str
    handler: str
    description: str
    timeout: int
    created_at: datetime
    updated_at: datetime

    def to_aws(self) -> dict[str, Any]:
        """GetFunctionConfiguration's shape (the fields that apply to a local Python handler)."""
        return {
            "FunctionName": self.name,
            "FunctionArn": self.arn,
            "Runtime": f"python{sys.version_info.major}.{sys.version_info.minor}",
            "Handler": self.handler,
            "Description": self.description,
            "Timeout": self.timeout,
            "LastModified": iso(self.updated_at),
            "Version": LATEST,
            "State": "Active",
            "PackageType": "Zip",
        }


@dataclass(frozen=True)
class InvokeResult:
    """Invoke's answer: ``payload`` is the handler's JSON result, or Lambda's error payload."""

    function_name: str
    request_id: str
    payload: Any
    function_error: str | None = None
    status_code: int = 200
    executed_version: str = LATEST

    @property
    def error_type(self) -> str | None:
        """The error's name when the function failed (``errorType``; ``None`` for a timeout, as Lambda)."""
        if self.function_error is None or not isinstance(self.payload, dict):
            return None
        value = self.payload.get("errorType")
        return None if value is None else str(value)

    def to_aws(self) -> dict[str, Any]:
        out: dict[str, Any] = {"StatusCode": self.status_code, "ExecutedVersion": self.executed_version}
        if self.function_error is not None:
            out["FunctionError"] = self.function_error
        out["Payload"] = self.payload
        return out


def _row(row: Any) -> Function:
    return Function(
        name=row.name,
        arn=row.arn,
        handler=row.handler,
        description=row.description,
        timeout=row.timeout,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
    )


def check_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise InvalidFunctionParameter(
            f"function name {name!r} is not valid",
            hint="1-64 letters, digits, hyphens or underscores",
        )
    return name


def _check_timeout(timeout: int) -> int:
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= MAX_TIMEOUT:
        raise InvalidFunctionParameter(
            f"timeout {timeout!r} is not valid", hint=f"a whole number of seconds from 1 to {MAX_TIMEOUT}"
        )
    return timeout


class Functions:
    """Register, inspect and invoke functions (Lambda)."""

    def __init__(
        self,
        *,
        db: MetadataDB,
        iam: IAM,
        principal: Principal,
        region: str,
        account_id: str,
        functions_root: Path | None = None,
    ) -> None:
        self.db = db
        self.iam = iam
        self.principal = principal
        self.region = region
        self.account_id = account_id
        self.functions_root = functions_root

    # ---- names

    def function_arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"

    @staticmethod
    def function_name(ref: str) -> str:
        """A function's name from its name, ``NAME:QUALIFIER`` or ARN (qualifiers are accepted and ignored:
        lakeport functions have one version, ``$LATEST``)."""
        m = _ARN.match(ref)
        if m:
            return m.group(1)
        if ref.startswith("arn:"):
            raise InvalidFunctionParameter(
                f"{ref!r} is not a function ARN", hint="arn:aws:lambda:REGION:ACCOUNT:function:NAME"
            )
        return ref.split(":", 1)[0]

    def _authorize(self, action: str, resource: str) -> None:
        self.iam.authorize(self.principal, f"lambda:{action}", resource)

    # ---- functions

    def create_function(self, name: str, handler: str, *, description: str = "", timeout: int = 60) -> Function:
        """Register ``handler`` (``module:function``, imported now to check it) under ``name``.

        The same request again is idempotent; another handler, description or timeout is
        FunctionAlreadyExists (update the function instead)."""
        check_name(name)
        arn = self.function_arn(name)
        self._authorize("CreateFunction", arn)
        _check_timeout(timeout)
        handlers.load_handler(handler, self.functions_root)

        def work(conn: Connection) -> None:
            row = conn.execute(select(functions_table).where(functions_table.c.name == name)).first()
            if row is not None:
                if (row.handler, row.description, row.timeout) == (handler, description, timeout):
                    return
                raise FunctionAlreadyExists(
                    f"function {name} already exists with handler {row.handler}",
                    hint=f"change it with: lakeport functions update {name} --handler {handler}",
                )
            stamp = now()
            conn.execute(
                functions_table.insert().values(
                    name=name,
                    arn=arn,
                    handler=handler,
                    description=description,
                    timeout=timeout,
                    created_at=stamp,
                    updated_at=stamp,
                )
            )

        self.db.run_write(work)
        return self._function(name)

    def update_function(
        self,
        ref: str,
        *,
        handler: str | None = None,
        description: str | None = None,
        timeout: int | None = None,
    ) -> Function:
        """Change a function's handler (checked by importing it), description or timeout."""
        name = self.function_name(ref)
        self._authorize("UpdateFunctionCode", self.function_arn(name))
        self._function(name)
        values: dict[str, Any] = {"updated_at": now()}
        if handler is not None:
            handlers.load_handler(handler, self.functions_root)
            values["handler"] = handler
        if description is not None:
            values["description"] = description
        if timeout is not None:
            values["timeout"] = _check_timeout(timeout)
        self.db.run_write(
            lambda conn: conn.execute(update(functions_table).where(functions_table.c.name == name).values(**values))
        )
        return self._function(name)

    def get_function(self, ref: str) -> Function:
        name = self.function_name(ref)
        self._authorize("GetFunction", self.function_arn(name))
        return self._function(name)

    def list_functions(self) -> list[Function]:
        self._authorize("ListFunctions", "*")
        with self.db.read() as conn:
            rows = conn.execute(select(functions_table).order_by(functions_table.c.name)).all()
        return [_row(r) for r in rows]

    def delete_function(self, ref: str) -> None:
        name = self.function_name(ref)
        self._authorize("DeleteFunction", self.function_arn(name))
        self._function(name)
        self.db.run_write(lambda conn: conn.execute(delete(functions_table).where(functions_table.c.name == name)))

    def _function(self, name: str) -> Function:
        with self.db.read() as conn:
            row = conn.execute(select(functions_table).where(functions_table.c.name == name)).first()
        if row is None:
            raise FunctionNotFound(
                f"function {name} does not exist",
                hint=f"register it: lakeport functions register {name} module:function",
            )
        return _row(row)

    # ---- invoking

    def invoke(self, ref: str, payload: Any = None, *, stop: handlers.Stopping | None = None) -> InvokeResult:
        """Call the function with ``payload`` (JSON text, or a JSON-serialisable value; None is ``{}``).

        The handler's exceptions, a run past the function's timeout and a result that is not JSON come back as
        ``FunctionError: "Unhandled"`` with Lambda's error payload; they are not raised. ``stop`` being set ends
        the wait early (the caller, a state-machine execution, is being stopped)."""
        name = self.function_name(ref)
        arn = self.function_arn(name)
        self._authorize("InvokeFunction", arn)
        function = self._function(name)
        event = _event(payload)
        handler = handlers.load_handler(function.handler, self.functions_root)
        request_id = str(uuid.uuid4())
        context = handlers.LambdaContext(
            function_name=name,
            invoked_function_arn=ref if ref.startswith("arn:") else arn,
            aws_request_id=request_id,
            timeout=function.timeout,
        )
        outcome = handlers.call(handler, event, context, stop=stop)
        return InvokeResult(name, request_id, outcome.payload, outcome.function_error)


def _event(payload: Any) -> Any:
    """The event the handler receives: a fresh JSON copy of ``payload`` (JSON text is parsed)."""
    if payload is None:
        return {}
    try:
        if isinstance(payload, str | bytes):
            return json.loads(payload)
        return json.loads(json.dumps(payload))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"the payload is not JSON: {exc}",
            hint="give a JSON object, array or value",
            code="InvalidRequestContentException",
        ) from None
