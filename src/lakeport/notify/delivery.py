"""Delivering one message to one endpoint: SNS's retry policy and the transports (HTTP, SMTP, file, function).

The retry policy follows SNS's HTTP/S delivery policy (``healthyRetryPolicy``): ``numRetries`` retries after the
first attempt, split into phases — ``numNoDelayRetries`` at once, ``numMinDelayRetries`` after ``minDelayTarget``,
a back-off phase from ``minDelayTarget`` to ``maxDelayTarget`` shaped by ``backoffFunction`` (linear, arithmetic,
geometric, exponential), then ``numMaxDelayRetries`` after ``maxDelayTarget``. Delays are seconds and, unlike SNS,
may be fractions (tests use milliseconds). A transport answers with an :class:`Outcome`; a failure that cannot get
better (HTTP 4xx other than 408/429, SMTP 5xx, an unknown function) is not retried.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from lakeport.errors import InvalidInput

__all__ = ["BACKOFF_FUNCTIONS", "Outcome", "RetryPolicy", "SmtpConfig", "post_http", "send_email", "write_line"]

BACKOFF_FUNCTIONS = ("linear", "arithmetic", "geometric", "exponential")
MAX_RETRIES = 100


class InvalidDeliveryPolicy(InvalidInput):
    default_code = "InvalidParameter"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str | None = None
    retry: bool = True  # whether another attempt could succeed


@dataclass(frozen=True)
class RetryPolicy:
    num_retries: int = 3
    min_delay: float = 1.0
    max_delay: float = 20.0
    num_no_delay_retries: int = 0
    num_min_delay_retries: int = 0
    num_max_delay_retries: int = 0
    backoff: str = "exponential"

    @classmethod
    def parse(cls, given: str | Mapping[str, Any], where: str, base: RetryPolicy | None = None) -> RetryPolicy:
        """A policy from a ``DeliveryPolicy`` attribute: ``{"healthyRetryPolicy": {...}}`` (a subscription's),
        ``{"http": {"defaultHealthyRetryPolicy": {...}}}`` (a topic's) or the inner object itself; fields not given
        keep ``base``'s values."""
        try:
            data = json.loads(given) if isinstance(given, str) else dict(given)
        except ValueError as exc:
            raise InvalidDeliveryPolicy(f"DeliveryPolicy of {where} is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise InvalidDeliveryPolicy(f"DeliveryPolicy of {where} must be a JSON object")
        if isinstance(data.get("http"), dict):
            data = data["http"].get("defaultHealthyRetryPolicy", {})
        elif "healthyRetryPolicy" in data:
            data = data["healthyRetryPolicy"]
        if not isinstance(data, dict):
            raise InvalidDeliveryPolicy(f"DeliveryPolicy of {where}: the retry policy must be a JSON object")
        start = base or cls()
        fields = {
            "numRetries": ("num_retries", int),
            "minDelayTarget": ("min_delay", float),
            "maxDelayTarget": ("max_delay", float),
            "numNoDelayRetries": ("num_no_delay_retries", int),
            "numMinDelayRetries": ("num_min_delay_retries", int),
            "numMaxDelayRetries": ("num_max_delay_retries", int),
            "backoffFunction": ("backoff", str),
        }
        values: dict[str, Any] = {f: getattr(start, f) for f, _ in fields.values()}
        for key, value in data.items():
            if key not in fields:
                continue  # throttlePolicy, requestPolicy… are accepted and have no effect locally
            name, kind = fields[key]
            if kind is str:
                if value not in BACKOFF_FUNCTIONS:
                    raise InvalidDeliveryPolicy(
                        f"DeliveryPolicy of {where}: backoffFunction {value!r} is not one of {', '.join(BACKOFF_FUNCTIONS)}"
                    )
                values[name] = value
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise InvalidDeliveryPolicy(f"DeliveryPolicy of {where}: {key} must be a number ≥ 0, got {value!r}")
            if kind is int and value != int(value):
                raise InvalidDeliveryPolicy(f"DeliveryPolicy of {where}: {key} must be a whole number")
            values[name] = kind(value)
        policy = cls(**values)
        policy.check(where)
        return policy

    def check(self, where: str) -> None:
        if self.num_retries > MAX_RETRIES:
            raise InvalidDeliveryPolicy(f"DeliveryPolicy of {where}: numRetries is at most {MAX_RETRIES}")
        if self.min_delay > self.max_delay:
            raise InvalidDeliveryPolicy(f"DeliveryPolicy of {where}: minDelayTarget is above maxDelayTarget")
        phases = self.num_no_delay_retries + self.num_min_delay_retries + self.num_max_delay_retries
        if phases > self.num_retries:
            raise InvalidDeliveryPolicy(
                f"DeliveryPolicy of {where}: numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries "
                f"({phases}) exceed numRetries ({self.num_retries})"
            )

    def delays(self) -> list[float]:
        """The wait before each retry, in order (``num_retries`` entries)."""
        out = [0.0] * self.num_no_delay_retries + [self.min_delay] * self.num_min_delay_retries
        steps = self.num_retries - self.num_no_delay_retries - self.num_min_delay_retries - self.num_max_delay_retries
        low, high = self.min_delay, self.max_delay
        for i in range(1, steps + 1):
            fraction = i / steps
            if self.backoff == "arithmetic":
                fraction = (i * (i + 1) / 2) / (steps * (steps + 1) / 2)
            elif self.backoff == "geometric":
                fraction = (2**i - 1) / (2**steps - 1)
            if self.backoff == "exponential" and low > 0:
                out.append(low * (high / low) ** fraction)
            else:
                out.append(low + (high - low) * fraction)
        out.extend([self.max_delay] * self.num_max_delay_retries)
        return out

    def to_aws(self) -> dict[str, Any]:
        return {
            "numRetries": self.num_retries,
            "minDelayTarget": self.min_delay,
            "maxDelayTarget": self.max_delay,
            "numNoDelayRetries": self.num_no_delay_retries,
            "numMinDelayRetries": self.num_min_delay_retries,
            "numMaxDelayRetries": self.num_max_delay_retries,
            "backoffFunction": self.backoff,
        }


# ---- transports


def post_http(url: str, body: str, headers: Mapping[str, str], timeout: float) -> Outcome:
    """POST a message as SNS does; 2xx is delivered."""
    import httpx

    try:
        response = httpx.post(url, content=body.encode("utf-8"), headers=dict(headers), timeout=timeout)
    except httpx.HTTPError as exc:
        return Outcome(False, None, f"{type(exc).__name__}: {exc}")
    code = response.status_code
    if 200 <= code < 300:
        return Outcome(True, code)
    permanent = 400 <= code < 500 and code not in (408, 429)
    return Outcome(False, code, f"HTTP {code} {response.reason_phrase}".strip(), retry=not permanent)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    tls: bool  # implicit TLS (SMTPS, usually port 465)
    starttls: bool
    username: str
    password: str
    sender: str
    timeout: float


def send_email(config: SmtpConfig, to: str, subject: str, body: str, content_type: str = "plain") -> Outcome:
    """Send one email through the configured SMTP server."""
    if not config.host:
        return Outcome(False, None, "no SMTP server: set notify.smtp_host (lakeport config)", retry=False)
    email = EmailMessage()
    email["From"] = config.sender
    email["To"] = to
    email["Subject"] = subject
    email.set_content(body, subtype=content_type)
    try:
        client: smtplib.SMTP
        if config.tls:
            client = smtplib.SMTP_SSL(
                config.host, config.port, timeout=config.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        with client:
            if config.starttls and not config.tls:
                client.starttls(context=ssl.create_default_context())
            if config.username:
                client.login(config.username, config.password)
            client.send_message(email)
    except smtplib.SMTPResponseException as exc:
        detail = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc)
        return Outcome(False, exc.smtp_code, f"SMTP {exc.smtp_code} {detail}", retry=exc.smtp_code < 500)
    except (OSError, smtplib.SMTPException) as exc:
        return Outcome(False, None, f"SMTP {config.host}:{config.port}: {type(exc).__name__}: {exc}")
    return Outcome(True, 250)


def write_line(path: Path, line: str) -> Outcome:
    """Append one JSON line to a file (its folder is created)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line.rstrip("\n") + "\n")
    except OSError as exc:
        return Outcome(False, None, f"cannot append to {path}: {exc.strerror or exc}")
    return Outcome(True)


def call_function(invoke: Callable[[str, Any], Any] | None, name: str, event: Mapping[str, Any]) -> Outcome:
    """Invoke a registered function with SNS's event; an exception it raises is a failed attempt."""
    if invoke is None:
        return Outcome(False, None, "no function runtime is wired into the notify service", retry=False)
    try:
        result = invoke(name, dict(event))
    except Exception as exc:  # the function's own failure is the attempt's failure
        return Outcome(False, None, f"function {name}: {type(exc).__name__}: {exc}")
    failure = getattr(result, "function_error", None)  # lake.functions answers failures instead of raising
    if failure:
        detail = getattr(result, "payload", None)
        return Outcome(False, getattr(result, "status_code", None), f"function {name}: {failure}: {detail}")
    return Outcome(True, getattr(result, "status_code", None))
