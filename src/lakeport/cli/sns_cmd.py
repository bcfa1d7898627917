"""``lakeport sns``: topics, subscriptions, publishing and the outbox, as Amazon SNS."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from lakeport.cli.context import OutputOption, output_of, state
from lakeport.cli.output import emit, stdout, table
from lakeport.errors import InvalidInput

app = typer.Typer(
    help="Notifications (SNS): topics, subscriptions (http/https, email, file, function), publish, outbox.",
    no_args_is_help=True,
)

TopicRef = Annotated[str, typer.Argument(help="topic name or ARN")]
SubscriptionRef = Annotated[str, typer.Argument(help="subscription ARN")]
Attributes = Annotated[
    list[str] | None, typer.Option("--attribute", "-a", help="an attribute as NAME=VALUE (repeatable)")
]
Limit = Annotated[int, typer.Option("--limit", help="at most this many rows")]


def _text_of(value: str, what: str) -> str:
    """``file://path`` read, or the value itself, as the AWS CLI takes them."""
    if value.startswith("file://"):
        path = Path(value.removeprefix("file://")).expanduser()
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"cannot read {what} {path}: {exc.strerror}") from None
    return value


def _pairs(values: list[str] | None, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in values or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InvalidInput(f"{what} {pair!r} is not NAME=VALUE")
        out[name.strip()] = _text_of(value, f"{what} {name}")
    return out


def _message_attributes(values: list[str] | None) -> dict[str, Any]:
    """``name=value`` (String) or ``name:Type=value`` (Number, String.Array, String)."""
    out: dict[str, Any] = {}
    for key, value in _pairs(values, "message attribute").items():
        name, _, kind = key.partition(":")
        out[name] = {"DataType": kind or "String", "StringValue": value}
    return out


@app.command("create-topic")
def create_topic(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="topic name")],
    attribute: Attributes = None,
    output: OutputOption = None,
) -> None:
    """Create a topic (idempotent); attributes: DisplayName, SignatureVersion (1 or 2), DeliveryPolicy."""
    topic = state(ctx).open_lake().notify.create_topic(name, _pairs(attribute, "attribute"))
    emit(output_of(ctx, output), {"TopicArn": topic.arn}, lambda: stdout.print(topic.arn, markup=False))


@app.command("delete-topic")
def delete_topic(ctx: typer.Context, topic: TopicRef, output: OutputOption = None) -> None:
    """Delete a topic and its subscriptions (the outbox keeps its messages)."""
    notify = state(ctx).open_lake().notify
    arn = notify.topic_arn(notify.topic_name(topic))
    notify.delete_topic(topic)
    emit(output_of(ctx, output), {"TopicArn": arn}, lambda: stdout.print(f"deleted {arn}", markup=False))


@app.command("list-topics")
def list_topics(ctx: typer.Context, output: OutputOption = None) -> None:
    """List topics."""
    topics = state(ctx).open_lake().notify.list_topics()
    emit(
        output_of(ctx, output),
        {"Topics": [{"TopicArn": t.arn} for t in topics]},
        lambda: table(["name", "ARN"], [(t.name, t.arn) for t in topics]),
    )


@app.command("get-topic-attributes")
def get_topic_attributes(ctx: typer.Context, topic: TopicRef, output: OutputOption = None) -> None:
    """Show a topic's attributes, its subscription counts and where its signing certificate is."""
    attributes = state(ctx).open_lake().notify.get_topic_attributes(topic)
    emit(
        output_of(ctx, output),
        {"Attributes": attributes},
        lambda: table(["attribute", "value"], sorted(attributes.items())),
    )


@app.command("set-topic-attributes")
def set_topic_attributes(
    ctx: typer.Context,
    topic: TopicRef,
    name: Annotated[str, typer.Argument(help="DisplayName, SignatureVersion, DeliveryPolicy, Policy")],
    value: Annotated[str | None, typer.Argument(help="the value (JSON or file://path); none removes it")] = None,
    output: OutputOption = None,
) -> None:
    """Set or remove one attribute of a topic."""
    text = None if value is None else _text_of(value, name)
    updated = state(ctx).open_lake().notify.set_topic_attributes(topic, name, text)
    emit(output_of(ctx, output), updated.to_dict(), lambda: stdout.print(f"updated {updated.arn}", markup=False))


@app.command("subscribe")
def subscribe(
    ctx: typer.Context,
    topic: TopicRef,
    protocol: Annotated[str, typer.Option("--protocol", help="http, https, email, email-json, file or function")],
    endpoint: Annotated[str, typer.Option("--endpoint", help="URL, email address, file path or function name")],
    filter_policy: Annotated[
        str | None, typer.Option("--filter-policy", help="a filter policy: JSON or file://path.json")
    ] = None,
    filter_policy_scope: Annotated[
        str | None, typer.Option("--filter-policy-scope", help="MessageAttributes (default) or MessageBody")
    ] = None,
    raw: Annotated[bool, typer.Option("--raw", help="deliver the raw message (RawMessageDelivery)")] = False,
    attribute: Attributes = None,
    output: OutputOption = None,
) -> None:
    """Subscribe an endpoint; http/https endpoints are sent a SubscriptionConfirmation to confirm."""
    attributes: dict[str, Any] = _pairs(attribute, "attribute")
    if filter_policy is not None:
        attributes["FilterPolicy"] = _text_of(filter_policy, "the filter policy")
    if filter_policy_scope is not None:
        attributes["FilterPolicyScope"] = filter_policy_scope
    if raw:
        attributes["RawMessageDelivery"] = "true"
    notify = state(ctx).open_lake().notify
    subscription = notify.subscribe(topic, protocol, endpoint, attributes, wait=True)
    data = {"SubscriptionArn": subscription.arn, "Status": subscription.status}

    def show() -> None:
        stdout.print(subscription.arn, markup=False)
        if subscription.pending:
            stdout.print("pending confirmation: confirm with `lakeport sns confirm TOPIC TOKEN`", markup=False)

    emit(output_of(ctx, output), data, show)


@app.command("confirm")
def confirm(
    ctx: typer.Context,
    topic: TopicRef,
    token: Annotated[str, typer.Argument(help="the Token of the SubscriptionConfirmation")],
    output: OutputOption = None,
) -> None:
    """Confirm a pending subscription with its token."""
    subscription = state(ctx).open_lake().notify.confirm_subscription(topic, token)
    emit(
        output_of(ctx, output),
        {"SubscriptionArn": subscription.arn},
        lambda: stdout.print(f"confirmed {subscription.arn}", markup=False),
    )


@app.command("unsubscribe")
def unsubscribe(ctx: typer.Context, subscription: SubscriptionRef, output: OutputOption = None) -> None:
    """Delete a subscription."""
    state(ctx).open_lake().notify.unsubscribe(subscription)
    emit(
        output_of(ctx, output),
        {"SubscriptionArn": subscription},
        lambda: stdout.print(f"unsubscribed {subscription}", markup=False),
    )


@app.command("list-subscriptions")
def list_subscriptions(
    ctx: typer.Context,
    topic: Annotated[str | None, typer.Option("--topic", help="only this topic's (name or ARN)")] = None,
    output: OutputOption = None,
) -> None:
    """List subscriptions, with their status and attributes."""
    notify = state(ctx).open_lake().notify
    found = notify.list_subscriptions_by_topic(topic) if topic else notify.list_subscriptions()
    emit(
        output_of(ctx, output),
        {"Subscriptions": [s.to_dict() for s in found]},
        lambda: table(
            ["topic", "protocol", "endpoint", "status", "ARN"],
            [(s.topic_arn.rsplit(":", 1)[-1], s.protocol, s.endpoint, s.status, s.arn) for s in found],
        ),
    )


@app.command("set-subscription-attributes")
def set_subscription_attributes(
    ctx: typer.Context,
    subscription: SubscriptionRef,
    name: Annotated[str, typer.Argument(help="FilterPolicy, FilterPolicyScope, RawMessageDelivery, DeliveryPolicy")],
    value: Annotated[str | None, typer.Argument(help="the value (JSON or file://path); none removes it")] = None,
    output: OutputOption = None,
) -> None:
    """Set or remove one attribute of a subscription."""
    text = None if value is None else _text_of(value, name)
    updated = state(ctx).open_lake().notify.set_subscription_attributes(subscription, name, text)
    emit(output_of(ctx, output), updated.to_dict(), lambda: stdout.print(f"updated {updated.arn}", markup=False))


@app.command("publish")
def publish(
    ctx: typer.Context,
    topic: TopicRef,
    message: Annotated[str, typer.Option("--message", "-m", help="the message: text or file://path")],
    subject: Annotated[str | None, typer.Option("--subject", help="the subject (emails' subject line)")] = None,
    message_attribute: Annotated[
        list[str] | None,
        typer.Option(
            "--message-attribute", help="NAME=VALUE (String) or NAME:Number=5, NAME:String.Array=[...] (repeatable)"
        ),
    ] = None,
    message_structure: Annotated[
        str | None, typer.Option("--message-structure", help="json: the message holds one message per protocol")
    ] = None,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="return before deliveries finish (they finish before the command exits)")
    ] = False,
    output: OutputOption = None,
) -> None:
    """Publish a message; deliveries (with retries) finish before the command returns."""
    notify = state(ctx).open_lake().notify
    message_id = notify.publish(
        topic,
        _text_of(message, "the message"),
        subject=subject,
        message_attributes=_message_attributes(message_attribute),
        message_structure=message_structure,
        wait=not no_wait,
    )
    emit(output_of(ctx, output), {"MessageId": message_id}, lambda: stdout.print(message_id, markup=False))
    notify.drain()


@app.command("outbox")
def outbox(
    ctx: typer.Context,
    topic: Annotated[str | None, typer.Option("--topic", help="only this topic's (name or ARN)")] = None,
    limit: Limit = 100,
    output: OutputOption = None,
) -> None:
    """Every message published, newest first, with its deliveries by outcome."""
    found = state(ctx).open_lake().notify.outbox(topic, limit=limit)

    def show() -> None:
        table(
            ["published", "topic", "message id", "subject", "message", "deliveries"],
            [
                (
                    m.to_dict()["PublishedAt"],
                    m.topic_arn.rsplit(":", 1)[-1],
                    m.message_id,
                    m.subject or "",
                    m.message if len(m.message) <= 60 else m.message[:57] + "...",
                    ", ".join(f"{k.lower()} {v}" for k, v in sorted(m.deliveries.items())),
                )
                for m in found
            ],
        )

    emit(output_of(ctx, output), {"Messages": [m.to_dict() for m in found]}, show)


@app.command("deliveries")
def deliveries(
    ctx: typer.Context,
    message_id: Annotated[str | None, typer.Option("--message-id", help="only this message's")] = None,
    subscription: Annotated[str | None, typer.Option("--subscription", help="only this subscription's")] = None,
    limit: Limit = 1000,
    output: OutputOption = None,
) -> None:
    """The delivery log: every attempt with its status code or error."""
    found = state(ctx).open_lake().notify.deliveries(message_id=message_id, subscription=subscription, limit=limit)
    emit(
        output_of(ctx, output),
        {"Deliveries": [d.to_dict() for d in found]},
        lambda: table(
            ["at", "message id", "subscription", "attempt", "status", "code", "error"],
            [
                (d.to_dict()["At"], d.message_id, d.subscription_arn, d.attempt, d.status, d.status_code, d.error)
                for d in found
            ],
        ),
    )


@app.command("dead-letters")
def dead_letters(
    ctx: typer.Context,
    topic: Annotated[str | None, typer.Option("--topic", help="only this topic's (name or ARN)")] = None,
    limit: Limit = 1000,
    output: OutputOption = None,
) -> None:
    """Messages a subscription never received, after the last attempt failed."""
    found = state(ctx).open_lake().notify.dead_letters(topic, limit=limit)
    emit(
        output_of(ctx, output),
        {"DeadLetters": [d.to_dict() for d in found]},
        lambda: table(
            ["at", "message id", "subscription", "attempts", "error"],
            [(d.to_dict()["CreatedAt"], d.message_id, d.subscription_arn, d.attempts, d.error) for d in found],
        ),
    )
