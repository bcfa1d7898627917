"""One exception tree with one JSON shape."""

from __future__ import annotations

import inspect

import lakeport.errors as errors_module
from lakeport.errors import LakeportError


def test_every_error_has_one_json_shape_and_an_http_status() -> None:
    classes = [c for _, c in inspect.getmembers(errors_module, inspect.isclass) if issubclass(c, LakeportError)]
    assert len(classes) > 10
    for cls in classes:
        err = cls("something named went wrong", hint="do this")
        body = err.to_dict()
        assert set(body) == {"error"}
        assert set(body["error"]) == {"code", "message", "hint", "type", "retryable"}
        assert body["error"]["message"] == "something named went wrong"
        assert 400 <= cls.http_status < 600
        assert err.one_line() == "something named went wrong (hint: do this)"


def test_one_line_folds_newlines() -> None:
    assert LakeportError("a\nb", hint="c\nd").one_line() == "a b (hint: c d)"
