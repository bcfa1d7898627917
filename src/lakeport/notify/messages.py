"""The documents SNS sends: message attributes, per-protocol messages, notifications, confirmations, Lambda events."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import Any

from lakeport.errors import InvalidInput
from lakeport.notify import signing

__all__ = [
    "MESSAGE_STRUCTURE_KEYS",
    "confirmation_document",
    "function_event",
    "message_for",
    "normalize_attributes",
    "notification_document",
]

MAX_ATTRIBUTES = 10
MAX_MESSAGE_BYTES = 256 * 1024
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_\-.]{1,256}$")
# The key a protocol's message is read from under MessageStructure=json (function subscriptions answer to "lambda",
# as Lambda subscriptions do in SNS).
MESSAGE_STRUCTURE_KEYS = {
    "http": "http",
    "https": "https",
    "email": "email",
    "email-json": "email-json",
    "file": "file",
    "function": "lambda",
}


class InvalidParameter(InvalidInput):
    default_code = "InvalidParameter"


def normalize_attributes(attributes: Mapping[str, Any] | None, topic: str) -> dict[str, dict[str, str]]:
    """Message attributes as SNS delivers them, ``{name: {"Type": ..., "Value": ...}}``.

    Accepts SNS's request shape (``{"DataType": "String", "StringValue": "x"}``, ``BinaryValue`` bytes), the
    delivered shape (``{"Type", "Value"}``) and plain Python values: ``str`` → String, numbers → Number, a list →
    String.Array, ``bytes`` → Binary.
    """
    out: dict[str, dict[str, str]] = {}
    for name, given in (attributes or {}).items():
        where = f"message attribute {name!r} (topic {topic})"
        if not _ATTRIBUTE_NAME.match(name) or name.startswith((".", "AWS.", "Amazon.")) or ".." in name:
            raise InvalidParameter(
                f"{where}: invalid name",
                hint="names have 1-256 letters, digits, '-', '_' or '.', and do not start with AWS. or Amazon.",
            )
        out[name] = _attribute(given, where)
    if len(out) > MAX_ATTRIBUTES:
        raise InvalidParameter(f"{len(out)} message attributes on topic {topic}; SNS allows {MAX_ATTRIBUTES}")
    return out


def _attribute(given: Any, where: str) -> dict[str, str]:
    if isinstance(given, Mapping):
        kind = given.get("DataType", given.get("Type"))
        if not isinstance(kind, str) or kind.split(".", 1)[0] not in ("String", "Number", "Binary"):
            raise InvalidParameter(
                f"{where}: DataType {kind!r} is not String, String.Array, Number or Binary",
                hint='give {"DataType": "String", "StringValue": "..."}',
            )
        if kind.startswith("Binary"):
            raw = given.get("BinaryValue", given.get("Value"))
            if isinstance(raw, bytes | bytearray):
                value = base64.b64encode(bytes(raw)).decode("ascii")
            elif isinstance(raw, str):
                value = raw
            else:
                raise InvalidParameter(f"{where}: a Binary attribute needs BinaryValue bytes")
        else:
            raw = given.get("StringValue", given.get("Value"))
            if isinstance(raw, list) and kind == "String.Array":
                raw = json.dumps(raw)
            if isinstance(raw, int | float) and not isinstance(raw, bool):
                raw = str(raw)
            if not isinstance(raw, str):
                raise InvalidParameter(f"{where}: a {kind} attribute needs a StringValue")
            value = raw
        if kind.startswith("Number"):
            try:
                float(value)
            except ValueError:
                raise InvalidParameter(f"{where}: {value!r} is not a number") from None
        if kind == "String.Array":
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if not isinstance(parsed, list):
                raise InvalidParameter(f"{where}: a String.Array value is a JSON array, got {value!r}")
        return {"Type": kind, "Value": value}
    if isinstance(given, bool):
        return {"Type": "String", "Value": "true" if given else "false"}
    if isinstance(given, int | float):
        return {"Type": "Number", "Value": str(given)}
    if isinstance(given, str):
        return {"Type": "String", "Value": given}
    if isinstance(given, list | tuple):
        return {"Type": "String.Array", "Value": json.dumps(list(given))}
    if isinstance(given, bytes | bytearray):
        return {"Type": "Binary", "Value": base64.b64encode(bytes(given)).decode("ascii")}
    raise InvalidParameter(f"{where}: cannot send a {type(given).__name__} as a message attribute")


def check_message(message: str, message_structure: str | None, topic: str) -> dict[str, str] | None:
    """Validate a published message; with ``MessageStructure=json`` return its per-protocol messages."""
    if not isinstance(message, str):
        raise InvalidParameter(f"the message for topic {topic} must be a string")
    if len(message.encode("utf-8")) > MAX_MESSAGE_BYTES:
        raise InvalidParameter(f"the message for topic {topic} is larger than 256 KB")
    if message_structure is None:
        return None
    if message_structure != "json":
        raise InvalidParameter(f"MessageStructure {message_structure!r} is not valid", hint="the only value is json")
    try:
        structure = json.loads(message)
    except ValueError:
        structure = None
    if not isinstance(structure, dict) or not isinstance(structure.get("default"), str):
        raise InvalidParameter(
            f"with MessageStructure json the message for topic {topic} must be a JSON object with a 'default' string",
            hint='e.g. {"default": "text", "email": "longer text", "https": "{\\"id\\": 1}"}',
        )
    bad = [k for k, v in structure.items() if not isinstance(v, str)]
    if bad:
        raise InvalidParameter(f"MessageStructure json: the messages for {', '.join(bad)} are not strings")
    return structure


def message_for(message: str, structure: Mapping[str, str] | None, protocol: str) -> str:
    """The message a subscription of ``protocol`` receives."""
    if structure is None:
        return message
    return structure.get(MESSAGE_STRUCTURE_KEYS.get(protocol, protocol), structure["default"])


def notification_document(
    *,
    message_id: str,
    topic_arn: str,
    subject: str | None,
    message: str,
    timestamp: str,
    signature_version: str,
    private_key: str,
    signing_cert_url: str,
    unsubscribe_url: str,
    attributes: Mapping[str, Mapping[str, str]],
) -> dict[str, Any]:
    """The JSON body of an HTTP/HTTPS notification, signed."""
    document: dict[str, Any] = {"Type": "Notification", "MessageId": message_id, "TopicArn": topic_arn}
    if subject is not None:
        document["Subject"] = subject
    document.update({"Message": message, "Timestamp": timestamp, "SignatureVersion": signature_version})
    document["Signature"] = signing.sign(document, private_key, signature_version)
    document["SigningCertURL"] = signing_cert_url
    document["UnsubscribeURL"] = unsubscribe_url
    if attributes:
        document["MessageAttributes"] = {k: dict(v) for k, v in attributes.items()}
    return document


def confirmation_document(
    *,
    message_id: str,
    token: str,
    topic_arn: str,
    subscribe_url: str,
    timestamp: str,
    signature_version: str,
    private_key: str,
    signing_cert_url: str,
) -> dict[str, Any]:
    """The JSON body of a SubscriptionConfirmation, signed."""
    document: dict[str, Any] = {
        "Type": "SubscriptionConfirmation",
        "MessageId": message_id,
        "Token": token,
        "TopicArn": topic_arn,
        "Message": (
            f"You have chosen to subscribe to the topic {topic_arn}.\n"
            "To confirm the subscription, visit the SubscribeURL included in this message."
        ),
        "SubscribeURL": subscribe_url,
        "Timestamp": timestamp,
        "SignatureVersion": signature_version,
    }
    document["Signature"] = signing.sign(document, private_key, signature_version)
    document["SigningCertURL"] = signing_cert_url
    return document


def function_event(document: Mapping[str, Any], subscription_arn: str) -> dict[str, Any]:
    """The event a function subscription receives: SNS's Lambda event shape (``Records[0].Sns``)."""
    sns = {k: v for k, v in document.items() if k not in ("SigningCertURL", "UnsubscribeURL")}
    sns["SigningCertUrl"] = document.get("SigningCertURL")
    sns["UnsubscribeUrl"] = document.get("UnsubscribeURL")
    sns.setdefault("Subject", None)
    sns.setdefault("MessageAttributes", {})
    return {
        "Records": [
            {"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": subscription_arn, "Sns": sns}
        ]
    }
