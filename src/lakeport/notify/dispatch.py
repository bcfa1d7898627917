"""Getting one message to one subscription: what each protocol is sent, the attempts, the log, the dead letter.

A :class:`Job` holds the payload a transport sends (prepared once, so every retry sends the same signed document)
and the retry policy. :func:`dispatch` runs jobs in the caller's thread or on this process's thread pool;
:func:`drain` waits for the pool. Every attempt is a row in ``notify_deliveries`` and a line in the log group
``/lakeport/sns/<topic>`` (stream: the subscription's id); the last failed attempt writes a dead letter.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from lakeport.metadata import MetadataDB
from lakeport.metadata.times import now
from lakeport.notify import delivery, messages
from lakeport.notify.model import DELIVERED, FAILED, FILTERED, Subscription
from lakeport.notify.schema import notify_dead_letters, notify_deliveries
from lakeport.observe import LogStore
from lakeport.observe.metrics_emit import emit_delivery
from lakeport.settings import NotifySettings

__all__ = ["DeliveryContext", "Job", "confirmation_job", "dispatch", "drain", "notification_job", "record_filtered"]

DEFAULT_SUBJECT = "AWS Notification Message"
USER_AGENT = "lakeport SNS agent"
Invoke = Callable[[str, Any], Any]

_POOL: ThreadPoolExecutor | None = None
_IN_FLIGHT: set[Future[None]] = set()
_LOCK = threading.Lock()
_LOG = logging.getLogger("lakeport.notify")


@dataclass(frozen=True)
class Job:
    """One message on its way to one subscription."""

    message_id: str
    topic: str
    subscription: Subscription
    payload: Mapping[str, Any]  # what the transport sends (see send)
    policy: delivery.RetryPolicy


@dataclass(frozen=True)
class DeliveryContext:
    """What deliveries use, taken from the service when they are dispatched."""

    db: MetadataDB
    logs: LogStore
    settings: NotifySettings
    invoke: Invoke | None
    sleep: Callable[[float], None]


# ---- what each protocol is sent


def notification_job(
    *,
    topic_arn: str,
    topic: str,
    subscription: Subscription,
    message_id: str,
    subject: str | None,
    text: str,
    attributes: Mapping[str, Mapping[str, str]],
    timestamp: str,
    signature_version: str,
    private_key: str,
    signing_cert_url: str,
    unsubscribe_url: str,
    policy: delivery.RetryPolicy,
) -> Job:
    document = messages.notification_document(
        message_id=message_id,
        topic_arn=topic_arn,
        subject=subject,
        message=text,
        timestamp=timestamp,
        signature_version=signature_version,
        private_key=private_key,
        signing_cert_url=signing_cert_url,
        unsubscribe_url=unsubscribe_url,
        attributes=attributes,
    )
    protocol = subscription.protocol
    payload: dict[str, Any]
    if protocol in ("http", "https"):
        headers = {
            "x-amz-sns-message-type": "Notification",
            "x-amz-sns-message-id": message_id,
            "x-amz-sns-topic-arn": topic_arn,
            "x-amz-sns-subscription-arn": subscription.arn,
            "Content-Type": "text/plain; charset=UTF-8",
            "User-Agent": USER_AGENT,
        }
        if subscription.raw:
            headers["x-amz-sns-rawdelivery"] = "true"
        payload = {"body": text if subscription.raw else json.dumps(document), "headers": headers}
    elif protocol == "email":
        footer = (
            "\n\n--\nIf you wish to stop receiving notifications from this topic, visit the link below to "
            f"unsubscribe:\n{unsubscribe_url}\n"
        )
        payload = {"subject": subject or DEFAULT_SUBJECT, "body": text + footer}
    elif protocol == "email-json":
        payload = {"subject": subject or DEFAULT_SUBJECT, "body": json.dumps(document, indent=2)}
    elif protocol == "file":
        payload = {"line": text if subscription.raw else json.dumps(document)}
    else:
        payload = {"event": messages.function_event(document, subscription.arn)}
    return Job(message_id, topic, subscription, payload, policy)


def confirmation_job(
    *,
    topic_arn: str,
    topic: str,
    subscription: Subscription,
    message_id: str,
    token: str,
    subscribe_url: str,
    timestamp: str,
    signature_version: str,
    private_key: str,
    signing_cert_url: str,
    policy: delivery.RetryPolicy,
) -> Job:
    document = messages.confirmation_document(
        message_id=message_id,
        token=token,
        topic_arn=topic_arn,
        subscribe_url=subscribe_url,
        timestamp=timestamp,
        signature_version=signature_version,
        private_key=private_key,
        signing_cert_url=signing_cert_url,
    )
    headers = {
        "x-amz-sns-message-type": "SubscriptionConfirmation",
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": topic_arn,
        "Content-Type": "text/plain; charset=UTF-8",
        "User-Agent": USER_AGENT,
    }
    return Job(message_id, topic, subscription, {"body": json.dumps(document), "headers": headers}, policy)


# ---- running jobs


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="lakeport-notify")
        return _POOL


def dispatch(jobs: list[Job], context: DeliveryContext, *, in_caller: bool) -> None:
    """Deliver each job, in this thread (retries included) or on the thread pool."""
    if in_caller:
        for job in jobs:
            deliver(job, context)
        return
    for job in jobs:
        future = _pool().submit(deliver, job, context)
        with _LOCK:
            _IN_FLIGHT.add(future)
        future.add_done_callback(_forget)


def drain(timeout: float | None = None) -> bool:
    """Wait until every delivery in flight in this process has finished; False if ``timeout`` ran out."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        with _LOCK:
            pending = set(_IN_FLIGHT)
        if not pending:
            return True
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            return False
        wait(pending, timeout=left)


def _forget(future: Future[None]) -> None:
    with _LOCK:
        _IN_FLIGHT.discard(future)
    error = None if future.cancelled() else future.exception()
    if error is not None:  # the delivery log could not be written (the metadata DB failed): say so somewhere
        _LOG.error("a notification delivery failed outside its attempts: %r", error)


def send(job: Job, context: DeliveryContext) -> delivery.Outcome:
    """One attempt."""
    sub = job.subscription
    payload = job.payload
    s = context.settings
    if sub.protocol in ("http", "https"):
        return delivery.post_http(sub.endpoint, payload["body"], payload["headers"], s.timeout_seconds)
    if sub.protocol in ("email", "email-json"):
        config = delivery.SmtpConfig(
            s.smtp_host,
            s.smtp_port,
            s.smtp_tls,
            s.smtp_starttls,
            s.smtp_username,
            s.smtp_password,
            s.smtp_from,
            s.timeout_seconds,
        )
        return delivery.send_email(config, sub.endpoint, payload["subject"], payload["body"])
    if sub.protocol == "file":
        return delivery.write_line(Path(sub.endpoint), payload["line"])
    return delivery.call_function(context.invoke, sub.endpoint, payload["event"])


def deliver(job: Job, context: DeliveryContext) -> None:
    """Attempt, retry per the job's policy, log every attempt; write a dead letter after the last failure."""
    delays = job.policy.delays()
    stream = job.subscription.arn.rsplit(":", 1)[-1]
    group = f"/lakeport/sns/{job.topic}"
    attempt = 0
    outcome = delivery.Outcome(False, None, "not attempted")
    while True:
        attempt += 1
        try:
            outcome = send(job, context)
        except Exception as exc:  # a transport bug must not lose the message: it is a failed attempt
            outcome = delivery.Outcome(False, None, f"{type(exc).__name__}: {exc}")
        _record_attempt(context.db, job, attempt, outcome)
        context.logs.put(
            group,
            stream,
            f"{job.subscription.protocol} delivery of {job.message_id} attempt {attempt}: "
            + ("delivered" if outcome.ok else f"failed: {outcome.error}"),
            level="INFO" if outcome.ok else "WARN",
            message_id=job.message_id,
            subscription=job.subscription.arn,
            attempt=attempt,
            status_code=outcome.status_code,
        )
        if outcome.ok:
            emit_delivery(context.db, topic=job.topic, delivered=True)  # AWS/SNS metrics; never raises
            return
        if not outcome.retry or attempt > len(delays):
            break
        context.sleep(delays[attempt - 1])
    _dead_letter(context.db, job, attempt, outcome.error or "failed")
    emit_delivery(context.db, topic=job.topic, delivered=False)  # AWS/SNS metrics; never raises
    context.logs.put(
        group,
        stream,
        f"{job.message_id} moved to the dead letters after {attempt} attempt(s): {outcome.error}",
        level="ERROR",
        message_id=job.message_id,
        subscription=job.subscription.arn,
    )


def record_filtered(db: MetadataDB, message_id: str, subscriptions: list[str]) -> None:
    """The subscriptions whose filter policy did not match a message (attempt 0, status FILTERED)."""
    stamp = now()
    rows = [
        {
            "message_id": message_id,
            "subscription": arn,
            "attempt": 0,
            "status": FILTERED,
            "status_code": None,
            "error": None,
            "at": stamp,
        }
        for arn in subscriptions
    ]

    def work(conn: Connection) -> None:
        conn.execute(notify_deliveries.insert(), rows)

    db.run_write(work)


def _record_attempt(db: MetadataDB, job: Job, attempt: int, outcome: delivery.Outcome) -> None:
    def work(conn: Connection) -> None:
        conn.execute(
            notify_deliveries.insert().values(
                message_id=job.message_id,
                subscription=job.subscription.arn,
                attempt=attempt,
                status=DELIVERED if outcome.ok else FAILED,
                status_code=outcome.status_code,
                error=outcome.error,
                at=now(),
            )
        )

    db.run_write(work)


def _dead_letter(db: MetadataDB, job: Job, attempts: int, error: str) -> None:
    payload = json.dumps(dict(job.payload), default=str)

    def work(conn: Connection) -> None:
        conn.execute(
            notify_dead_letters.insert().values(
                message_id=job.message_id,
                topic=job.topic,
                subscription=job.subscription.arn,
                attempts=attempts,
                error=error,
                payload=payload,
                created_at=now(),
            )
        )

    db.run_write(work)
