"""lake.functions: register (checked by importing), invoke Lambda-style, errors as Lambda reports them, IAM."""

from __future__ import annotations

import os
import time

import pytest

from lakeport import Lake
from lakeport.errors import AccessDenied, AlreadyExists, InvalidInput, NotFound

ARN = "arn:aws:lambda:us-east-1:000000000000:function:"


def test_register_get_list_update_delete(lake: Lake, module: str) -> None:
    functions = lake.functions
    created = functions.create_function("Greet", f"{module}:greet", description="says hello", timeout=5)
    assert created.arn == ARN + "Greet"
    assert created.to_aws()["Handler"] == f"{module}:greet"
    assert functions.create_function("Greet", f"{module}:greet", description="says hello", timeout=5) == created
    with pytest.raises(AlreadyExists) as refused:
        functions.create_function("Greet", f"{module}:echo")
    assert refused.value.hint is not None
    assert "update" in refused.value.hint
    assert functions.get_function(ARN + "Greet").timeout == 5
    assert [f.name for f in functions.list_functions()] == ["Greet"]
    updated = functions.update_function("Greet", handler=f"{module}:echo", timeout=9)
    assert (updated.handler, updated.timeout, updated.description) == (f"{module}:echo", 9, "says hello")
    functions.delete_function("Greet")
    with pytest.raises(NotFound):
        functions.get_function("Greet")


@pytest.mark.parametrize(
    ("name", "handler", "said"),
    [
        ("bad name", "m:f", "function name"),
        ("x" * 65, "m:f", "function name"),
        ("Ok", "no_colon", "module:function"),
        ("Ok", "surely_missing_module_xyz:f", "surely_missing_module_xyz"),
        ("Ok", "{module}:absent", "absent"),
    ],
)
def test_refused_up_front(lake: Lake, module: str, name: str, handler: str, said: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        lake.functions.create_function(name, handler.format(module=module))
    assert said in refused.value.message
    assert lake.functions.list_functions() == []


def test_invoke_calls_the_handler_lambda_style(lake: Lake, module: str) -> None:
    lake.functions.create_function("Greet", f"{module}:greet", timeout=7)
    result = lake.functions.invoke("Greet", {"who": "ada"})
    assert result.function_error is None
    assert result.to_aws()["StatusCode"] == 200
    payload = result.payload
    assert payload["hello"] == "ada"
    assert payload["function"] == "Greet"
    assert payload["arn"] == ARN + "Greet"
    assert payload["request"] == result.request_id
    assert 0 < payload["left_ms"] <= 7000
    by_arn = lake.functions.invoke(ARN + "Greet:$LATEST", '{"who": "bo"}')  # JSON text, a qualified ARN
    assert by_arn.payload["hello"] == "bo"
    assert by_arn.payload["arn"] == ARN + "Greet:$LATEST"


def test_an_exception_is_a_function_error(lake: Lake, module: str) -> None:
    lake.functions.create_function("Boom", f"{module}:boom")
    result = lake.functions.invoke("Boom", {"who": "ada"})
    assert result.function_error == "Unhandled"
    assert result.error_type == "CustomError"
    assert result.payload["errorMessage"] == "no luck for ada"
    assert result.payload["errorType"] == "CustomError"
    assert any("boom" in line for line in result.payload["stackTrace"])
    assert result.to_aws()["FunctionError"] == "Unhandled"


def test_payloads_must_be_json(lake: Lake, module: str) -> None:
    lake.functions.create_function("Odd", f"{module}:not_json")
    result = lake.functions.invoke("Odd", {})
    assert result.error_type == "Runtime.MarshalError"
    with pytest.raises(InvalidInput):
        lake.functions.invoke("Odd", {"x": object()})
    with pytest.raises(InvalidInput):
        lake.functions.invoke("Odd", "{not json")


def test_a_run_past_the_timeout_is_a_timeout_error(lake: Lake, module: str) -> None:
    lake.functions.create_function("Slow", f"{module}:slow", timeout=1)
    started = time.monotonic()
    result = lake.functions.invoke("Slow", {"seconds": 5})
    assert time.monotonic() - started < 3
    assert result.function_error == "Unhandled"
    assert "Task timed out after 1.00 seconds" in result.payload["errorMessage"]
    assert result.error_type is None


def test_an_edited_module_is_imported_again(lake: Lake, module: str) -> None:
    lake.functions.create_function("Echo", f"{module}:echo")
    assert lake.functions.invoke("Echo", {"a": 1}).payload == {"a": 1}
    path = lake.root / "functions" / f"{module}.py"
    path.write_text("def echo(event, context):\n    return ['edited', event]\n", encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))  # a later mtime, whatever the clock
    assert lake.functions.invoke("Echo", {"a": 1}).payload == ["edited", {"a": 1}]


def test_iam_decides_every_operation(lake: Lake, module: str) -> None:
    lake.functions.create_function("Greet", f"{module}:greet")
    lake.iam.create_user("caller")
    lake.iam.put_user_policy(
        "caller",
        "read-only",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["lambda:GetFunction", "lambda:ListFunctions"], "Resource": "*"},
                {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": ARN + "Other"},
            ],
        },
    )
    caller = lake.as_principal(lake.iam.resolve("caller"))
    assert [f.name for f in caller.functions.list_functions()] == ["Greet"]
    with pytest.raises(AccessDenied) as denied:
        caller.functions.invoke("Greet", {})
    assert "lambda:InvokeFunction" in denied.value.message
    with pytest.raises(AccessDenied):
        caller.functions.create_function("Mine", f"{module}:greet")
    with pytest.raises(AccessDenied):
        caller.functions.delete_function("Greet")
