"""Message signatures as Amazon SNS makes them, with one RSA key per topic.

SNS signs the "string to sign": selected fields of the message, each as its name on one line and its value on the
next, in this order —

- ``Notification``: Message, MessageId, Subject (only when present), Timestamp, TopicArn, Type;
- ``SubscriptionConfirmation`` / ``UnsubscribeConfirmation``: Message, MessageId, SubscribeURL, Timestamp, Token,
  TopicArn, Type.

``SignatureVersion`` 1 is SHA1withRSA, 2 is SHA256withRSA (PKCS#1 v1.5), Base64-encoded. Each topic gets its own
2048-bit key and a self-signed X.509 certificate; a receiver verifies with the certificate's public key
(:func:`verify`), exactly as it would with the certificate behind AWS's ``SigningCertURL``.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

__all__ = ["KeyPair", "new_key_pair", "sign", "string_to_sign", "verify"]

NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
SIGNATURE_VERSIONS = ("1", "2")


class KeyPair:
    """A topic's private key and certificate, both PEM text."""

    def __init__(self, private_key: str, certificate: str) -> None:
        self.private_key = private_key
        self.certificate = certificate


def new_key_pair(common_name: str) -> KeyPair:
    """A fresh RSA key and a self-signed certificate naming the topic (valid ten years)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    return KeyPair(private_pem, certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"))


def string_to_sign(message: Mapping[str, Any]) -> str:
    """The canonical text SNS signs for a message document (by its ``Type``)."""
    fields = NOTIFICATION_FIELDS if message.get("Type") == "Notification" else CONFIRMATION_FIELDS
    lines: list[str] = []
    for name in fields:
        if name in message and message[name] is not None:
            lines.extend((name, str(message[name])))
    return "".join(line + "\n" for line in lines)


def _hash(version: str) -> hashes.HashAlgorithm:
    if version == "1":
        return hashes.SHA1()
    if version == "2":
        return hashes.SHA256()
    raise ValueError(f"SignatureVersion {version!r} is not 1 or 2")


def sign(message: Mapping[str, Any], private_key_pem: str, version: str = "1") -> str:
    """The Base64 ``Signature`` of a message document."""
    key = serialization.load_pem_private_key(private_key_pem.encode("ascii"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the topic's signing key is not an RSA key")
    signature = key.sign(string_to_sign(message).encode("utf-8"), padding.PKCS1v15(), _hash(version))
    return base64.b64encode(signature).decode("ascii")


def verify(message: Mapping[str, Any] | str, public_key_pem: str) -> bool:
    """Whether a message document's ``Signature`` is valid for the key in ``public_key_pem`` (a certificate or a
    bare public key, PEM), as a receiver checks it."""
    import json

    document = json.loads(message) if isinstance(message, str) else message
    pem = public_key_pem.encode("ascii")
    public_key: Any = (
        x509.load_pem_x509_certificate(pem).public_key()
        if b"BEGIN CERTIFICATE" in pem
        else serialization.load_pem_public_key(pem)
    )
    if not isinstance(public_key, rsa.RSAPublicKey):
        return False
    try:
        signature = base64.b64decode(document["Signature"], validate=True)
        algorithm = _hash(str(document.get("SignatureVersion", "1")))
        public_key.verify(signature, string_to_sign(document).encode("utf-8"), padding.PKCS1v15(), algorithm)
    except (InvalidSignature, KeyError, ValueError):
        return False
    return True
