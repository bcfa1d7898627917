"""``lake.notify``: SNS's API over topics and subscriptions kept in the metadata DB, and the deliveries.

``publish`` records the message in the outbox, drops subscriptions whose filter policy does not match (a
``FILTERED`` row in the delivery log) and hands each remaining delivery to a thread pool of this process, so the
publisher does not wait for slow endpoints; ``publish(..., wait=True)`` delivers in the caller's thread instead and
``drain()`` waits for every delivery in flight. Each attempt is a row in the delivery log and a line in the log
group ``/lakeport/sns/<topic>`` (stream: the subscription's id); after the last failed attempt the message goes to
the dead letters.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy import delete, desc, func, select, update
from sqlalchemy.engine import Connection, Row

from lakeport.errors import InvalidInput, NotFound
from lakeport.iam import IAM, Principal
from lakeport.metadata import MetadataDB
from lakeport.metadata.times import iso, now, utc
from lakeport.notify import delivery, dispatch, messages, signing
from lakeport.notify.dispatch import Invoke
from lakeport.notify.filter_policy import ATTRIBUTES, BODY, parse_filter_policy
from lakeport.notify.messages import InvalidParameter
from lakeport.notify.model import (
    CONFIRMED,
    PENDING,
    DeadLetter,
    DeliveryAttempt,
    OutboxMessage,
    Subscription,
    Topic,
    attributes_text,
)
from lakeport.notify.schema import (
    notify_dead_letters,
    notify_deliveries,
    notify_messages,
    notify_subscriptions,
    notify_topics,
)
from lakeport.observe import LogStore
from lakeport.settings import NotifySettings

__all__ = ["Invoke", "NotFoundException", "Notifications"]

PROTOCOLS = ("http", "https", "email", "email-json", "file", "function")
TOPIC_ATTRIBUTES = ("DisplayName", "DeliveryPolicy", "SignatureVersion", "Policy", "TracingConfig")
SUBSCRIPTION_ATTRIBUTES = ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "DeliveryPolicy", "RedrivePolicy")
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_SUBJECT = re.compile(r"^[\x20-\x7e]{1,99}$")


class NotFoundException(NotFound):
    """SNS's error code for a topic or subscription that does not exist."""

    default_code = "NotFound"


class Notifications:
    """Topics, subscriptions and publishing (Amazon SNS)."""

    def __init__(
        self,
        *,
        db: MetadataDB,
        iam: IAM,
        principal: Principal,
        logs: LogStore,
        region: str,
        account_id: str,
        settings: NotifySettings | None = None,
        invoke: Invoke | None = None,
        base_dir: Path | None = None,
        public_url: str = "http://127.0.0.1:8790",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.db = db
        self.iam = iam
        self.principal = principal
        self.logs = logs
        self.region = region
        self.account_id = account_id
        self.settings = settings or NotifySettings()
        self.invoke = invoke
        self.base_dir = base_dir
        self.public_url = public_url.rstrip("/")
        self.sleep = sleep

    # ---- names

    def topic_arn(self, name: str) -> str:
        return f"arn:aws:sns:{self.region}:{self.account_id}:{name}"

    def topic_name(self, ref: str) -> str:
        """A topic's name from its name or ARN."""
        if ref.startswith("arn:"):
            parts = ref.split(":")
            if len(parts) != 6 or parts[2] != "sns":
                raise InvalidParameter(f"{ref!r} is not a topic ARN", hint="arn:aws:sns:REGION:ACCOUNT:NAME")
            return parts[5]
        return ref

    def _topic_of_subscription(self, arn: str) -> str:
        parts = arn.split(":")
        if len(parts) != 7 or parts[2] != "sns":
            raise InvalidParameter(
                f"{arn!r} is not a subscription ARN",
                hint="arn:aws:sns:REGION:ACCOUNT:TOPIC:ID (lakeport sns list-subscriptions)",
            )
        return parts[5]

    def _authorize(self, action: str, resource: str) -> None:
        self.iam.authorize(self.principal, f"sns:{action}", resource)

    def _default_policy(self) -> delivery.RetryPolicy:
        s = self.settings
        return delivery.RetryPolicy(
            num_retries=s.num_retries,
            min_delay=s.min_delay_seconds,
            max_delay=s.max_delay_seconds,
            backoff=s.backoff_function,
        )

    # ---- topics

    def create_topic(self, name: str, attributes: Mapping[str, Any] | None = None) -> Topic:
        """Create a topic (or return the one of that name when its attributes are the same, as SNS does)."""
        if name.endswith(".fifo") or str((attributes or {}).get("FifoTopic", "false")).lower() == "true":
            raise InvalidParameter(
                f"topic {name}: FIFO topics are not supported by lakeport",
                hint="use a standard topic (a name without .fifo)",
            )
        if not _TOPIC_NAME.match(name):
            raise InvalidParameter(
                f"topic name {name!r} is not valid",
                hint="1-256 letters, digits, hyphens and underscores",
            )
        arn = self.topic_arn(name)
        self._authorize("CreateTopic", arn)
        given = self._check_topic_attributes(name, attributes or {})
        with self.db.read() as conn:
            row = conn.execute(select(notify_topics).where(notify_topics.c.name == name)).first()
        if row is not None:
            return self._existing_topic(row, given)
        keys = signing.new_key_pair(arn)
        stamp = now()

        def work(conn: Connection) -> Row[Any] | None:
            found = conn.execute(select(notify_topics).where(notify_topics.c.name == name)).first()
            if found is not None:
                return found
            conn.execute(
                notify_topics.insert().values(
                    name=name,
                    arn=arn,
                    attributes=given,
                    private_key=keys.private_key,
                    certificate=keys.certificate,
                    owner=self.principal.arn,
                    created_at=stamp,
                )
            )
            return None

        raced = self.db.run_write(work)
        if raced is not None:
            return self._existing_topic(raced, given)
        self._write_certificate(name, keys.certificate)
        return Topic(name, arn, given, self.principal.arn, stamp)

    def _existing_topic(self, row: Row[Any], given: Mapping[str, str]) -> Topic:
        if given and dict(row.attributes) != dict(given):
            raise InvalidParameter(
                f"topic {row.name} already exists with different attributes",
                hint="create it with the same attributes, or delete it first",
            )
        return _topic(row)

    def _check_topic_attributes(self, name: str, attributes: Mapping[str, Any]) -> dict[str, str]:
        given = attributes_text({k: v for k, v in attributes.items() if k != "FifoTopic"})
        for key, value in given.items():
            if key not in TOPIC_ATTRIBUTES:
                raise InvalidParameter(
                    f"topic {name}: attribute {key!r} is not supported", hint=f"known: {', '.join(TOPIC_ATTRIBUTES)}"
                )
            if key == "SignatureVersion" and value not in signing.SIGNATURE_VERSIONS:
                raise InvalidParameter(f"topic {name}: SignatureVersion must be 1 or 2, got {value!r}")
            if key == "DeliveryPolicy":
                delivery.RetryPolicy.parse(value, f"topic {name}", self._default_policy())
        return given

    def delete_topic(self, topic: str) -> None:
        """Delete a topic and its subscriptions (deleting a topic that does not exist is not an error, as in SNS).
        The outbox, delivery log and dead letters keep their records."""
        name = self.topic_name(topic)
        self._authorize("DeleteTopic", self.topic_arn(name))

        def work(conn: Connection) -> None:
            conn.execute(delete(notify_subscriptions).where(notify_subscriptions.c.topic == name))
            conn.execute(delete(notify_topics).where(notify_topics.c.name == name))

        self.db.run_write(work)
        if self.base_dir is not None:
            (self._certificate_dir() / f"{name}.pem").unlink(missing_ok=True)

    def list_topics(self) -> list[Topic]:
        self._authorize("ListTopics", "*")
        with self.db.read() as conn:
            rows = conn.execute(select(notify_topics).order_by(notify_topics.c.name)).all()
        return [_topic(r) for r in rows]

    def _topic_row(self, conn: Connection, topic: str) -> Row[Any]:
        name = self.topic_name(topic)
        row = conn.execute(select(notify_topics).where(notify_topics.c.name == name)).first()
        if row is None:
            raise NotFoundException(f"topic {name} does not exist", hint="list topics with: lakeport sns list-topics")
        return row

    def get_topic(self, topic: str) -> Topic:
        name = self.topic_name(topic)
        self._authorize("GetTopicAttributes", self.topic_arn(name))
        with self.db.read() as conn:
            return _topic(self._topic_row(conn, name))

    def get_topic_attributes(self, topic: str) -> dict[str, str]:
        """SNS's GetTopicAttributes, plus ``SigningCertURL`` (where the topic's certificate is)."""
        name = self.topic_name(topic)
        self._authorize("GetTopicAttributes", self.topic_arn(name))
        with self.db.read() as conn:
            row = self._topic_row(conn, name)
            counts: dict[str, int] = dict(
                conn.execute(
                    select(notify_subscriptions.c.status, func.count())
                    .where(notify_subscriptions.c.topic == name)
                    .group_by(notify_subscriptions.c.status)
                ).all()
            )
        given: dict[str, str] = dict(row.attributes)
        policy = self._topic_policy(given, name)
        out = {
            "TopicArn": row.arn,
            "Owner": self.account_id,
            "DisplayName": given.get("DisplayName", ""),
            "SignatureVersion": given.get("SignatureVersion", "1"),
            "SubscriptionsConfirmed": str(counts.get(CONFIRMED, 0)),
            "SubscriptionsPending": str(counts.get(PENDING, 0)),
            "SubscriptionsDeleted": "0",
            "EffectiveDeliveryPolicy": json.dumps({"http": {"defaultHealthyRetryPolicy": policy.to_aws()}}),
            "SigningCertURL": self._signing_cert_url(name, row.certificate),
        }
        out.update({k: v for k, v in given.items() if k not in ("DisplayName", "SignatureVersion")})
        return out

    def set_topic_attributes(self, topic: str, name: str, value: Any) -> Topic:
        """Set (or, with ``None``, remove) one attribute of a topic, as SNS's SetTopicAttributes."""
        topic_name = self.topic_name(topic)
        self._authorize("SetTopicAttributes", self.topic_arn(topic_name))

        def work(conn: Connection) -> Row[Any]:
            row = self._topic_row(conn, topic_name)
            attributes = dict(row.attributes)
            if value is None:
                attributes.pop(name, None)
            else:
                attributes[name] = value
            checked = self._check_topic_attributes(topic_name, attributes)
            conn.execute(update(notify_topics).where(notify_topics.c.name == topic_name).values(attributes=checked))
            return conn.execute(select(notify_topics).where(notify_topics.c.name == topic_name)).one()

        return _topic(self.db.run_write(work))

    def signing_certificate(self, topic: str) -> str:
        """The PEM certificate whose public key verifies the topic's message signatures."""
        name = self.topic_name(topic)
        self._authorize("GetTopicAttributes", self.topic_arn(name))
        with self.db.read() as conn:
            return str(self._topic_row(conn, name).certificate)

    def _topic_policy(self, attributes: Mapping[str, str], name: str) -> delivery.RetryPolicy:
        base = self._default_policy()
        given = attributes.get("DeliveryPolicy")
        return delivery.RetryPolicy.parse(given, f"topic {name}", base) if given else base

    def _certificate_dir(self) -> Path:
        assert self.base_dir is not None
        return self.base_dir / ".lakeport" / "sns"

    def _write_certificate(self, name: str, certificate: str) -> Path | None:
        if self.base_dir is None:
            return None
        path = self._certificate_dir() / f"{name}.pem"
        if not path.exists() or path.read_text(encoding="ascii") != certificate:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
            tmp.write_text(certificate, encoding="ascii")
            tmp.replace(path)
        return path

    def _signing_cert_url(self, name: str, certificate: str) -> str:
        """A file:// URL of the certificate in the lake (written when missing); without a lake folder, the URL the
        lakeport server will answer."""
        path = self._write_certificate(name, certificate)
        if path is None:
            return f"{self.public_url}/sns/certificates/{quote(name)}.pem"
        return path.resolve().as_uri()

    # ---- subscriptions

    def subscribe(
        self,
        topic: str,
        protocol: str,
        endpoint: str,
        attributes: Mapping[str, Any] | None = None,
        *,
        wait: bool = False,
    ) -> Subscription:
        """Subscribe an endpoint. ``http``/``https`` subscriptions start pending and are sent a
        SubscriptionConfirmation (its ``Token`` goes to :meth:`confirm_subscription`); the other protocols are
        confirmed at once (email too: lakeport does not send a confirmation email, see docs/notify.md)."""
        name = self.topic_name(topic)
        topic_arn = self.topic_arn(name)
        self._authorize("Subscribe", topic_arn)
        if protocol not in PROTOCOLS:
            raise InvalidParameter(
                f"topic {name}: protocol {protocol!r} is not supported", hint=f"use one of {', '.join(PROTOCOLS)}"
            )
        endpoint = self._check_endpoint(name, protocol, endpoint)
        given = self._check_subscription_attributes(f"the {protocol} subscription to {name}", attributes or {})
        pending = protocol in ("http", "https")
        token = secrets.token_hex(32) if pending else None
        stamp = now()

        def work(conn: Connection) -> tuple[Row[Any], bool]:
            self._topic_row(conn, name)
            found = conn.execute(
                select(notify_subscriptions).where(
                    notify_subscriptions.c.topic == name,
                    notify_subscriptions.c.protocol == protocol,
                    notify_subscriptions.c.endpoint == endpoint,
                )
            ).first()
            if found is not None:
                if given and dict(found.attributes) != given:
                    raise InvalidParameter(
                        f"{found.arn} already subscribes {endpoint} with different attributes",
                        hint=f"change them with: lakeport sns set-subscription-attributes {found.arn}",
                    )
                return found, False
            arn = f"{topic_arn}:{uuid.uuid4()}"
            conn.execute(
                notify_subscriptions.insert().values(
                    arn=arn,
                    topic=name,
                    protocol=protocol,
                    endpoint=endpoint,
                    attributes=given,
                    status=PENDING if pending else CONFIRMED,
                    token=token,
                    owner=self.principal.arn,
                    created_at=stamp,
                )
            )
            row = conn.execute(select(notify_subscriptions).where(notify_subscriptions.c.arn == arn)).one()
            return row, True

        row, created = self.db.run_write(work)
        subscription = _subscription(row, topic_arn)
        if created and pending:
            with self.db.read() as conn:
                topic_row = self._topic_row(conn, name)
            self._dispatch([self._confirmation_job(topic_row, subscription, str(row.token))], wait)
        return subscription

    def _check_endpoint(self, topic: str, protocol: str, endpoint: str) -> str:
        where = f"the {protocol} subscription to {topic}"
        if protocol in ("http", "https"):
            parts = urlsplit(endpoint)
            if parts.scheme != protocol or not parts.netloc:
                raise InvalidParameter(f"{where}: endpoint {endpoint!r} is not an {protocol}:// URL")
        elif protocol in ("email", "email-json"):
            if not _EMAIL.match(endpoint):
                raise InvalidParameter(f"{where}: endpoint {endpoint!r} is not an email address")
        elif protocol == "file":
            base = (self.base_dir or Path.cwd()).resolve()
            path = Path(endpoint.removeprefix("file://")).expanduser()
            path = (path if path.is_absolute() else base / path).resolve()
            # Inside the lake folder only, and never over lakeport's own files: a subscriber must not be able
            # to write over the metadata DB, the settings or the credentials.
            if not path.is_relative_to(base) or path == base:
                raise InvalidParameter(
                    f"{where}: the file {path} is outside the lake folder {base}",
                    hint="give a path inside the lake folder, e.g. events/pipeline.jsonl",
                )
            relative = path.relative_to(base)
            if relative.parts[0] == ".lakeport" or relative.parts[0].startswith(("lakeport.db", "lakeport.toml")):
                raise InvalidParameter(f"{where}: {relative} is one of lakeport's own files", hint="pick another path")
            return str(path)
        elif protocol == "function":
            name = endpoint.split(":function:", 1)[1] if ":function:" in endpoint else endpoint
            if not name or "/" in name:
                raise InvalidParameter(f"{where}: endpoint {endpoint!r} is not a function name")
            return name.split(":", 1)[0]
        return endpoint

    def _check_subscription_attributes(self, where: str, attributes: Mapping[str, Any]) -> dict[str, str]:
        given = attributes_text(attributes)
        for key, value in given.items():
            if key not in SUBSCRIPTION_ATTRIBUTES:
                raise InvalidParameter(
                    f"{where}: attribute {key!r} is not supported", hint=f"known: {', '.join(SUBSCRIPTION_ATTRIBUTES)}"
                )
            if key == "RawMessageDelivery" and value.lower() not in ("true", "false"):
                raise InvalidParameter(f"{where}: RawMessageDelivery must be true or false, got {value!r}")
            if key == "FilterPolicyScope" and value not in (ATTRIBUTES, BODY):
                raise InvalidParameter(f"{where}: FilterPolicyScope must be {ATTRIBUTES} or {BODY}, got {value!r}")
            if key == "DeliveryPolicy":
                delivery.RetryPolicy.parse(value, where, self._default_policy())
        if "FilterPolicy" in given:
            try:
                parse_filter_policy(given["FilterPolicy"], given.get("FilterPolicyScope", ATTRIBUTES))
            except InvalidInput as exc:
                raise type(exc)(f"{where}: {exc.message}", hint=exc.hint) from None
        return given

    def confirm_subscription(self, topic: str, token: str) -> Subscription:
        """Confirm a pending subscription with the ``Token`` of its SubscriptionConfirmation."""
        name = self.topic_name(topic)
        topic_arn = self.topic_arn(name)
        self._authorize("ConfirmSubscription", topic_arn)

        def work(conn: Connection) -> Row[Any]:
            self._topic_row(conn, name)
            row = conn.execute(
                select(notify_subscriptions).where(
                    notify_subscriptions.c.topic == name, notify_subscriptions.c.token == token
                )
            ).first()
            if row is None:
                raise InvalidParameter(
                    f"topic {name}: invalid confirmation token",
                    hint="use the Token of the SubscriptionConfirmation the endpoint received",
                )
            conn.execute(
                update(notify_subscriptions).where(notify_subscriptions.c.arn == row.arn).values(status=CONFIRMED)
            )
            return conn.execute(select(notify_subscriptions).where(notify_subscriptions.c.arn == row.arn)).one()

        return _subscription(self.db.run_write(work), topic_arn)

    def unsubscribe(self, subscription_arn: str) -> None:
        name = self._topic_of_subscription(subscription_arn)
        self._authorize("Unsubscribe", self.topic_arn(name))

        def work(conn: Connection) -> None:
            gone = conn.execute(delete(notify_subscriptions).where(notify_subscriptions.c.arn == subscription_arn))
            if not gone.rowcount:
                raise NotFoundException(
                    f"subscription {subscription_arn} does not exist",
                    hint=f"list them with: lakeport sns list-subscriptions --topic {name}",
                )

        self.db.run_write(work)

    def list_subscriptions(self) -> list[Subscription]:
        self._authorize("ListSubscriptions", "*")
        with self.db.read() as conn:
            rows = conn.execute(select(notify_subscriptions).order_by(notify_subscriptions.c.created_at)).all()
        return [_subscription(r, self.topic_arn(r.topic)) for r in rows]

    def list_subscriptions_by_topic(self, topic: str) -> list[Subscription]:
        name = self.topic_name(topic)
        self._authorize("ListSubscriptionsByTopic", self.topic_arn(name))
        with self.db.read() as conn:
            self._topic_row(conn, name)
            rows = conn.execute(
                select(notify_subscriptions)
                .where(notify_subscriptions.c.topic == name)
                .order_by(notify_subscriptions.c.created_at)
            ).all()
        return [_subscription(r, self.topic_arn(name)) for r in rows]

    def _subscription_row(self, conn: Connection, subscription_arn: str) -> Row[Any]:
        row = conn.execute(select(notify_subscriptions).where(notify_subscriptions.c.arn == subscription_arn)).first()
        if row is None:
            raise NotFoundException(
                f"subscription {subscription_arn} does not exist",
                hint="list them with: lakeport sns list-subscriptions",
            )
        return row

    def get_subscription_attributes(self, subscription_arn: str) -> dict[str, str]:
        name = self._topic_of_subscription(subscription_arn)
        self._authorize("GetSubscriptionAttributes", self.topic_arn(name))
        with self.db.read() as conn:
            row = self._subscription_row(conn, subscription_arn)
        out = {
            "SubscriptionArn": row.arn,
            "TopicArn": self.topic_arn(name),
            "Protocol": row.protocol,
            "Endpoint": row.endpoint,
            "Owner": self.account_id,
            "PendingConfirmation": "true" if row.status == PENDING else "false",
            "ConfirmationWasAuthenticated": "false" if row.status == PENDING else "true",
            "RawMessageDelivery": "false",
        }
        out.update(dict(row.attributes))
        return out

    def set_subscription_attributes(self, subscription_arn: str, name: str, value: Any) -> Subscription:
        """Set (or, with ``None``, remove) one attribute of a subscription, as SNS's SetSubscriptionAttributes."""
        topic = self._topic_of_subscription(subscription_arn)
        self._authorize("SetSubscriptionAttributes", self.topic_arn(topic))

        def work(conn: Connection) -> Row[Any]:
            row = self._subscription_row(conn, subscription_arn)
            attributes = dict(row.attributes)
            if value is None:
                attributes.pop(name, None)
                if name not in SUBSCRIPTION_ATTRIBUTES:
                    raise InvalidParameter(f"{subscription_arn}: attribute {name!r} is not supported")
            else:
                attributes.update(attributes_text({name: value}))
            checked = self._check_subscription_attributes(f"subscription {subscription_arn}", attributes)
            conn.execute(
                update(notify_subscriptions)
                .where(notify_subscriptions.c.arn == subscription_arn)
                .values(attributes=checked)
            )
            return conn.execute(
                select(notify_subscriptions).where(notify_subscriptions.c.arn == subscription_arn)
            ).one()

        return _subscription(self.db.run_write(work), self.topic_arn(topic))

    # ---- publishing

    def publish(
        self,
        topic: str,
        message: str,
        subject: str | None = None,
        message_attributes: Mapping[str, Any] | None = None,
        message_structure: str | None = None,
        *,
        wait: bool = False,
    ) -> str:
        """Publish a message to every confirmed subscription whose filter policy matches; return its MessageId.

        Deliveries run on a thread pool unless ``wait=True`` (then they run, retries included, before this
        returns); :meth:`drain` waits for the pool."""
        name = self.topic_name(topic)
        topic_arn = self.topic_arn(name)
        self._authorize("Publish", topic_arn)
        if subject is not None and not _SUBJECT.match(subject):
            raise InvalidParameter(
                f"topic {name}: the subject must be 1-99 printable ASCII characters without line breaks"
            )
        structure = messages.check_message(message, message_structure, name)
        attributes = messages.normalize_attributes(message_attributes, name)
        message_id = str(uuid.uuid4())
        stamp = now()

        def work(conn: Connection) -> tuple[Row[Any], list[Row[Any]]]:
            topic_row = self._topic_row(conn, name)
            conn.execute(
                notify_messages.insert().values(
                    message_id=message_id,
                    topic=name,
                    subject=subject,
                    message=message,
                    message_structure=message_structure,
                    message_attributes=attributes,
                    principal=self.principal.arn,
                    published_at=stamp,
                )
            )
            subs = conn.execute(
                select(notify_subscriptions)
                .where(notify_subscriptions.c.topic == name, notify_subscriptions.c.status == CONFIRMED)
                .order_by(notify_subscriptions.c.created_at)
            ).all()
            return topic_row, list(subs)

        topic_row, rows = self.db.run_write(work)
        jobs: list[dispatch.Job] = []
        filtered: list[str] = []
        for row in rows:
            subscription = _subscription(row, topic_arn)
            text = messages.message_for(message, structure, subscription.protocol)
            policy_text = subscription.attributes.get("FilterPolicy")
            if policy_text:
                policy = parse_filter_policy(policy_text, subscription.attributes.get("FilterPolicyScope", ATTRIBUTES))
                if not policy.matches(text, attributes):
                    filtered.append(subscription.arn)
                    continue
            jobs.append(self._notification_job(topic_row, subscription, message_id, subject, text, attributes, stamp))
        if filtered:
            dispatch.record_filtered(self.db, message_id, filtered)
        self._dispatch(jobs, wait)
        return message_id

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every delivery in flight in this process has finished; False if ``timeout`` ran out."""
        return dispatch.drain(timeout)

    def _dispatch(self, jobs: list[dispatch.Job], in_caller: bool) -> None:
        context = dispatch.DeliveryContext(self.db, self.logs, self.settings, self.invoke, self.sleep)
        dispatch.dispatch(jobs, context, in_caller=in_caller)

    # ---- building what each protocol receives

    def _unsubscribe_url(self, subscription_arn: str) -> str:
        return f"{self.public_url}/sns/?Action=Unsubscribe&SubscriptionArn={quote(subscription_arn, safe='')}"

    def _notification_job(
        self,
        topic_row: Row[Any],
        subscription: Subscription,
        message_id: str,
        subject: str | None,
        text: str,
        attributes: Mapping[str, Mapping[str, str]],
        stamp: Any,
    ) -> dispatch.Job:
        return dispatch.notification_job(
            topic_arn=topic_row.arn,
            topic=topic_row.name,
            subscription=subscription,
            message_id=message_id,
            subject=subject,
            text=text,
            attributes=attributes,
            timestamp=iso(stamp) or "",
            signature_version=dict(topic_row.attributes).get("SignatureVersion", "1"),
            private_key=topic_row.private_key,
            signing_cert_url=self._signing_cert_url(topic_row.name, topic_row.certificate),
            unsubscribe_url=self._unsubscribe_url(subscription.arn),
            policy=self._policy_for(topic_row, subscription),
        )

    def _confirmation_job(self, topic_row: Row[Any], subscription: Subscription, token: str) -> dispatch.Job:
        arn = quote(topic_row.arn, safe="")
        return dispatch.confirmation_job(
            topic_arn=topic_row.arn,
            topic=topic_row.name,
            subscription=subscription,
            message_id=str(uuid.uuid4()),
            token=token,
            subscribe_url=f"{self.public_url}/sns/?Action=ConfirmSubscription&TopicArn={arn}&Token={token}",
            timestamp=iso(now()) or "",
            signature_version=dict(topic_row.attributes).get("SignatureVersion", "1"),
            private_key=topic_row.private_key,
            signing_cert_url=self._signing_cert_url(topic_row.name, topic_row.certificate),
            policy=self._policy_for(topic_row, subscription),
        )

    def _policy_for(self, topic_row: Row[Any], subscription: Subscription) -> delivery.RetryPolicy:
        policy = self._topic_policy(dict(topic_row.attributes), topic_row.name)
        own = subscription.attributes.get("DeliveryPolicy")
        return delivery.RetryPolicy.parse(own, subscription.arn, policy) if own else policy

    # ---- the outbox, the delivery log, the dead letters

    def _authorize_read(self, topic: str | None) -> str | None:
        """Reading the outbox and logs needs sns:GetTopicAttributes on the topic (sns:ListTopics for all)."""
        if topic is None:
            self._authorize("ListTopics", "*")
            return None
        name = self.topic_name(topic)
        self._authorize("GetTopicAttributes", self.topic_arn(name))
        return name

    def outbox(self, topic: str | None = None, *, limit: int = 100) -> list[OutboxMessage]:
        """Published messages, newest first, each with how many subscriptions it reached by status."""
        name = self._authorize_read(topic)
        query = select(notify_messages)
        if name is not None:
            query = query.where(notify_messages.c.topic == name)
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(desc(notify_messages.c.published_at)).limit(limit)).all()
            ids = [r.message_id for r in rows]
            outcomes = conn.execute(
                select(notify_deliveries.c.message_id, notify_deliveries.c.subscription, notify_deliveries.c.status)
                .where(notify_deliveries.c.message_id.in_(ids))
                .order_by(notify_deliveries.c.id)
            ).all()
        final: dict[str, dict[str, str]] = {}
        for message_id, subscription, status in outcomes:
            final.setdefault(message_id, {})[subscription] = status
        out: list[OutboxMessage] = []
        for r in rows:
            counts: dict[str, int] = {}
            for status in final.get(r.message_id, {}).values():
                counts[status] = counts.get(status, 0) + 1
            out.append(
                OutboxMessage(
                    r.message_id,
                    self.topic_arn(r.topic),
                    r.subject,
                    r.message,
                    r.message_structure,
                    r.message_attributes or {},
                    r.principal,
                    utc(r.published_at),
                    counts,
                )
            )
        return out

    def deliveries(
        self, *, message_id: str | None = None, subscription: str | None = None, limit: int = 1000
    ) -> list[DeliveryAttempt]:
        """The delivery log: every attempt, oldest first, for a message and/or a subscription."""
        topic = self._topic_of_subscription(subscription) if subscription else None
        self._authorize_read(topic)
        query = select(notify_deliveries)
        if message_id is not None:
            query = query.where(notify_deliveries.c.message_id == message_id)
        if subscription is not None:
            query = query.where(notify_deliveries.c.subscription == subscription)
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(notify_deliveries.c.id).limit(limit)).all()
        return [
            DeliveryAttempt(r.id, r.message_id, r.subscription, r.attempt, r.status, r.status_code, r.error, utc(r.at))
            for r in rows
        ]

    def dead_letters(self, topic: str | None = None, *, limit: int = 1000) -> list[DeadLetter]:
        """Messages a subscription never received, oldest first."""
        name = self._authorize_read(topic)
        query = select(notify_dead_letters)
        if name is not None:
            query = query.where(notify_dead_letters.c.topic == name)
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(notify_dead_letters.c.id).limit(limit)).all()
        return [
            DeadLetter(
                r.id,
                r.message_id,
                self.topic_arn(r.topic),
                r.subscription,
                r.attempts,
                r.error,
                r.payload,
                utc(r.created_at),
            )
            for r in rows
        ]


def _topic(row: Row[Any]) -> Topic:
    return Topic(row.name, row.arn, dict(row.attributes), row.owner, utc(row.created_at))


def _subscription(row: Row[Any], topic_arn: str) -> Subscription:
    return Subscription(
        row.arn, topic_arn, row.protocol, row.endpoint, dict(row.attributes), row.status, row.owner, utc(row.created_at)
    )
