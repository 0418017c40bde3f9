"""Delivering over HTTP to local receivers: what arrives, what is retried, what is reported."""

from __future__ import annotations

import logging
import time

import httpx
import pytest

from aiops.notifications import (
    Channel,
    Notification,
    Notifier,
    SlackBotChannel,
    SlackWebhookChannel,
    WebhookChannel,
    verify_signature,
)
from tests.aiops.notifications.conftest import INCIDENT_URL
from tests.support.fake_receivers import FakeReceiver, Reply

SECRET = "whsec-0123456789abcdef"
TOKEN = "xoxb-1234-5678-secrettoken"


async def test_slack_webhook_receives_blocks_with_title_and_incident_button(
    notifier: Notifier, receiver: FakeReceiver, notification: Notification
) -> None:
    channel = SlackWebhookChannel(url=receiver.url("/services/T0/B0/secretpath"))
    result = await notifier.send(channel, notification)

    assert result.ok and result.attempts == 1 and result.status == 200
    (request,) = receiver.requests
    assert request.method == "POST" and request.path == "/services/T0/B0/secretpath"
    assert request.headers["content-type"].startswith("application/json")
    body = request.json()
    assert "Checkout latency is ten times normal" in body["blocks"][0]["text"]["text"]
    buttons = [
        b for block in body["blocks"] if block["type"] == "actions" for b in block["elements"]
    ]
    assert [button["url"] for button in buttons] == [INCIDENT_URL]
    assert "secretpath" not in result.target and "secretpath" not in repr(result)


async def test_slack_bot_posts_to_the_channel_with_the_bearer_token(
    notifier: Notifier, receiver: FakeReceiver, notification: Notification
) -> None:
    receiver.script(Reply.slack(ok=True))
    channel = SlackBotChannel(token=TOKEN, channel="C0OPS", api_url=receiver.url("/api"))
    result = await notifier.send(channel, notification)

    assert result.ok
    (request,) = receiver.requests
    assert request.path == "/api/chat.postMessage"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.json()["channel"] == "C0OPS"
    assert request.json()["blocks"][0]["type"] == "header"


async def test_slack_ok_false_is_a_failure_with_slacks_error(
    notifier: Notifier, receiver: FakeReceiver, notification: Notification
) -> None:
    receiver.script(Reply.slack(ok=False, error="channel_not_found"))
    channel = SlackBotChannel(token=TOKEN, channel="C0GONE", api_url=receiver.url("/api"))
    result = await notifier.send(channel, notification)

    assert not result.ok
    assert result.error is not None and "channel_not_found" in result.error
    assert result.attempts == 1  # a configuration problem: retrying will not help
    assert TOKEN not in str(result)


async def test_signed_webhook_verifies_with_the_secret_only(
    notifier: Notifier, receiver: FakeReceiver, notification: Notification
) -> None:
    result = await notifier.send(
        WebhookChannel(url=receiver.url("/hook"), secret=SECRET), notification
    )

    assert result.ok
    (request,) = receiver.requests
    signature = request.headers["x-hexabase-signature"]
    assert verify_signature(SECRET, signature, request.body)
    assert not verify_signature("whsec-some-other-secret", signature, request.body)
    assert not verify_signature(SECRET, signature, request.body + b" ")
    assert not verify_signature(SECRET, signature, request.body, time.time() + 3600)
    assert request.headers["x-hexabase-event"] == "incident_opened"
    assert request.headers["x-hexabase-delivery"] == result.delivery_id
    payload = request.json()
    assert (payload["version"], payload["event"], payload["delivery_id"]) == (
        1,
        "incident_opened",
        result.delivery_id,
    )
    assert payload["incident"]["url"] == INCIDENT_URL


async def test_503_then_200_is_delivered_in_two_attempts_with_one_delivery_id(
    notifier: Notifier, receiver: FakeReceiver, notification: Notification
) -> None:
    receiver.script(Reply(503, "busy"), Reply(200))
    result = await notifier.send(
        WebhookChannel(url=receiver.url("/hook"), secret=SECRET), notification
    )

    assert result.ok and result.attempts == 2
    first, second = receiver.requests
    assert first.headers["x-hexabase-delivery"] == second.headers["x-hexabase-delivery"]
    assert verify_signature(SECRET, second.headers["x-hexabase-signature"], second.body)


async def test_400_is_not_retried(
    notifier: Notifier, receiver: FakeReceiver, notification: Notification
) -> None:
    receiver.script(Reply(400, "invalid_payload"))
    result = await notifier.send(SlackWebhookChannel(url=receiver.url("/s")), notification)

    assert not result.ok
    assert (result.attempts, result.status) == (1, 400)
    assert result.error == "HTTP 400: invalid_payload"
    assert len(receiver.requests) == 1


async def test_persistent_5xx_gives_up_after_all_attempts(
    notifier: Notifier, receiver: FakeReceiver, notification: Notification
) -> None:
    receiver.default = Reply(502, "bad gateway")
    result = await notifier.send(SlackWebhookChannel(url=receiver.url("/s")), notification)

    assert not result.ok and result.attempts == 3 and result.status == 502
    assert len(receiver.requests) == 3


async def test_429_waits_for_retry_after_up_to_the_cap(
    notifier: Notifier, receiver: FakeReceiver, notification: Notification
) -> None:
    receiver.script(Reply(429, "slow down", headers={"Retry-After": "30"}), Reply(200))
    started = time.monotonic()
    result = await notifier.send(SlackWebhookChannel(url=receiver.url("/s")), notification)

    assert result.ok and result.attempts == 2
    assert 0.19 <= time.monotonic() - started < 2  # waited the 0.2 s cap, not 30 s


async def test_an_unreachable_host_fails_fast_without_raising(
    notifier: Notifier, notification: Notification
) -> None:
    started = time.monotonic()
    result = await notifier.send(
        WebhookChannel(url=FakeReceiver.closed_url("/hook"), secret=SECRET), notification
    )

    assert not result.ok and result.attempts == 3 and result.status is None
    assert result.error is not None and "ConnectError" in result.error
    assert time.monotonic() - started < 2


async def test_a_slow_receiver_times_out_as_a_failure(
    receiver: FakeReceiver, notification: Notification
) -> None:
    receiver.script(Reply(200, delay=1.0))
    async with Notifier(timeout=0.2, attempts=1, allow_private_networks=True) as notifier:
        result = await notifier.send(SlackWebhookChannel(url=receiver.url("/s")), notification)

    assert not result.ok and result.error is not None and "Timeout" in result.error


async def test_private_addresses_are_refused_unless_allowed(
    receiver: FakeReceiver, notification: Notification
) -> None:
    async with Notifier() as notifier:
        result = await notifier.send(SlackWebhookChannel(url=receiver.url("/s")), notification)
        metadata = await notifier.send(
            WebhookChannel(url="http://169.254.169.254/latest/meta-data", secret=SECRET),
            notification,
        )

    assert not result.ok and result.attempts == 0
    assert result.error is not None and "not a public address" in result.error
    assert not metadata.ok and metadata.attempts == 0
    assert receiver.requests == []


async def test_send_all_delivers_concurrently_and_reports_each(
    notifier: Notifier, receiver: FakeReceiver, notification: Notification
) -> None:
    receiver.default = Reply(200, delay=0.3)
    channels: list[Channel] = [
        SlackWebhookChannel(url=receiver.url("/a")),
        WebhookChannel(url=receiver.url("/b"), secret=SECRET),
        WebhookChannel(url=FakeReceiver.closed_url(), secret=SECRET),
    ]
    started = time.monotonic()
    results = await notifier.send_all(channels, notification)

    assert [r.ok for r in results] == [True, True, False]
    assert [r.channel_kind for r in results] == ["slack_webhook", "webhook", "webhook"]
    assert time.monotonic() - started < 0.55  # two 0.3 s deliveries overlapped


async def test_logs_never_carry_the_webhook_url_or_token(
    notifier: Notifier,
    receiver: FakeReceiver,
    notification: Notification,
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver.script(Reply(500, "oops"), Reply(500, "oops"), Reply(500, "oops"))
    with caplog.at_level(logging.DEBUG), caplog.at_level(logging.DEBUG, logger="httpx"):
        await notifier.send(
            SlackWebhookChannel(url=receiver.url("/services/T0/B0/hooksecret")), notification
        )
        await notifier.send(
            SlackBotChannel(token=TOKEN, channel="C1", api_url=receiver.url()), notification
        )

    logged = "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    assert any(record.name == "httpx" for record in caplog.records)  # its request line, masked
    assert "notification not delivered" in logged
    assert "hooksecret" not in logged and TOKEN not in logged


async def test_a_shared_http_client_is_left_open(
    receiver: FakeReceiver, notification: Notification
) -> None:
    async with httpx.AsyncClient() as http:
        notifier = Notifier(http, allow_private_networks=True)
        assert (await notifier.send(SlackWebhookChannel(url=receiver.url()), notification)).ok
        await notifier.aclose()
        assert not http.is_closed
