"""Registered functions (Lambda's role): a name bound to a Python handler ``module:function``, invoked as Lambda."""

from lakeport.functions.functions import Function, FunctionAlreadyExists, FunctionNotFound, Functions, InvokeResult
from lakeport.functions.handlers import HandlerImportError, LambdaContext

__all__ = [
    "Function",
    "FunctionAlreadyExists",
    "FunctionNotFound",
    "Functions",
    "HandlerImportError",
    "InvokeResult",
    "LambdaContext",
]
