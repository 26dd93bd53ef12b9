"""Batch-end callbacks: what is sent, signed so a receiver can verify it with the Standard Webhooks
library, retried with backoff while the window lasts, given up after it, every attempt logged."""

import asyncio
import base64
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from agentbatch.domain.batches import Batch
from agentbatch.domain.errors import InvalidRequest, NotFound
from agentbatch.engine import metrics
from agentbatch.engine.agent_commands import AgentCommands
from agentbatch.engine.batch_commands import BatchCommands
from agentbatch.engine.callbacks import (
    CallbackDispatcher,
    CallbackReplays,
    RetryPolicy,
    signature_headers,
)
from agentbatch.store.callbacks import DeliveryAttempt, list_deliveries
from agentbatch.store.database import Database
from tests.support.polling import wait_for_async
from tests.support.receiver import CallbackReceiver
from tests.unit.engine_parts.conftest import OWNER, new_agent, turn

SECRET = "whsec_" + base64.b64encode(b"a-test-secret-of-32-bytes-length").decode()
QUICK = RetryPolicy(window_s=60.0, base_s=0.01, max_s=0.02)


def attempts_counted(result: str) -> float:
    """As ``GET /metrics`` shows it."""
    return metrics.REGISTRY.get_sample_value("agentbatch_callback_attempts_total", {"result": result}) or 0.0


@asynccontextmanager
async def dispatching(
    db: Database, policy: RetryPolicy = QUICK, secret: str = SECRET, timeout_s: float = 2.0
) -> AsyncIterator[CallbackDispatcher]:
    dispatcher = CallbackDispatcher(db, timeout_s=timeout_s, policy=policy, poll_s=0.01, secret=secret)
    running = asyncio.create_task(dispatcher.run_forever())
    try:
        yield dispatcher
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running


async def ended_batch(
    agents: AgentCommands, batches: BatchCommands, url: str | None, metadata: dict[str, str] | None = None
) -> Batch:
    """A batch of two requests, cancelled: it has ended, so its callback is due now."""
    agent = await new_agent(agents)
    submitted = await batches.submit(
        OWNER, [turn(agent.id), turn(agent.id)], callback_url=url, metadata=metadata
    )
    return await batches.cancel(OWNER, submitted.batch.id)


async def deliveries_once(
    db: Database, batch_id: str, done: Callable[[list[DeliveryAttempt]], bool]
) -> list[DeliveryAttempt]:
    async def probe() -> list[DeliveryAttempt] | None:
        async with db.read() as conn:
            found = await list_deliveries(conn, batch_id)
        return found if done(found) else None

    return await wait_for_async(probe, timeout=10.0, what="the callback's delivery log")


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/nobody-listens"


async def test_an_ended_batch_is_posted_once_with_its_outcome_signed_for_the_receiver(
    db: Database, agents: AgentCommands, batches: BatchCommands
) -> None:
    delivered_before = attempts_counted("delivered")
    with CallbackReceiver() as receiver:
        batch = await ended_batch(agents, batches, receiver.url, metadata={"run": "nightly"})
        async with dispatching(db):
            log = await deliveries_once(db, batch.id, lambda found: len(found) >= 1)

        (headers, raw) = receiver.raw[0]
        body = Webhook(SECRET).verify(raw, headers)  # raises if the signature does not match
    assert len(receiver.received) == 1
    assert body["job_id"] == batch.id and body["status"] == "cancelled"
    assert body["stop_reason"] == batch.stop_reason
    assert body["metadata"] == {"run": "nightly", "job_type": "batch_messages"}
    assert body["request_counts"] == {"total": 2, "succeeded": 0, "errored": 0, "cancelled": 2, "expired": 0}
    assert datetime.fromisoformat(body["completed_at"]) == batch.completed_at
    assert headers["webhook-id"] == batch.id and headers["Content-Type"] == "application/json"
    assert [(entry.attempt, entry.status_code, entry.error) for entry in log] == [(1, 200, None)]
    assert log[0].next_attempt_at is None
    assert attempts_counted("delivered") == delivered_before + 1


async def test_without_a_secret_the_callback_goes_unsigned(
    db: Database, agents: AgentCommands, batches: BatchCommands
) -> None:
    with CallbackReceiver() as receiver:
        batch = await ended_batch(agents, batches, receiver.url)
        async with dispatching(db, secret=""):
            await deliveries_once(db, batch.id, lambda found: len(found) >= 1)
        headers = {key.lower() for key in receiver.raw[0][0]}
    assert not headers & {"webhook-id", "webhook-timestamp", "webhook-signature"}


async def test_a_failing_endpoint_is_retried_as_the_same_message_until_it_answers(
    db: Database, agents: AgentCommands, batches: BatchCommands
) -> None:
    failed_before = attempts_counted("failed")
    with CallbackReceiver(statuses=[500, 503]) as receiver:
        batch = await ended_batch(agents, batches, receiver.url)
        async with dispatching(db):
            log = await deliveries_once(db, batch.id, lambda found: len(found) >= 3)
        sent = list(receiver.raw)

    assert [entry.status_code for entry in log] == [500, 503, 200]
    assert [entry.error for entry in log] == [
        "callback endpoint answered HTTP 500",
        "callback endpoint answered HTTP 503",
        None,
    ]
    assert all(entry.next_attempt_at is not None for entry in log[:2]) and log[2].next_attempt_at is None
    assert {headers["webhook-id"] for headers, _ in sent} == {batch.id}  # one message, sent thrice
    for headers, raw in sent:
        Webhook(SECRET).verify(raw, headers)  # each attempt is signed afresh
    assert attempts_counted("failed") == failed_before + 2


@pytest.mark.parametrize(
    ("policy", "attempts"),
    [
        (RetryPolicy(window_s=0.0, base_s=0.01, max_s=0.02), 1),  # the window has passed at once
        (RetryPolicy(window_s=60.0, max_attempts=3, base_s=0.01, max_s=0.02), 3),
    ],
)
async def test_an_endpoint_that_never_answers_is_given_up_on_saying_how_many_attempts(
    db: Database, agents: AgentCommands, batches: BatchCommands, policy: RetryPolicy, attempts: int
) -> None:
    gave_up_before = attempts_counted("gave_up")
    with CallbackReceiver(statuses=[502] * 10) as receiver:
        batch = await ended_batch(agents, batches, receiver.url)
        async with dispatching(db, policy=policy):
            log = await deliveries_once(
                db, batch.id, lambda found: bool(found) and not found[-1].next_attempt_at
            )
        posts = len(receiver.received)

    assert len(log) == attempts == posts
    assert log[-1].error == f"callback endpoint answered HTTP 502 (gave up after {attempts} attempts)"
    assert attempts_counted("gave_up") == gave_up_before + 1


async def test_an_unreachable_endpoint_is_logged_without_a_status_and_naming_the_failure(
    db: Database, agents: AgentCommands, batches: BatchCommands
) -> None:
    batch = await ended_batch(agents, batches, closed_port_url())
    async with dispatching(db, policy=RetryPolicy(window_s=0.0)):
        log = await deliveries_once(db, batch.id, lambda found: len(found) >= 1)

    assert log[0].status_code is None and not log[0].reached_endpoint
    assert log[0].error is not None and log[0].error.startswith("ConnectError")
    assert log[0].error.endswith("(gave up after 1 attempts)")


async def test_a_replay_sends_an_ended_batchs_callback_again_as_a_new_message(
    db: Database, agents: AgentCommands, batches: BatchCommands
) -> None:
    with CallbackReceiver() as receiver:
        batch = await ended_batch(agents, batches, receiver.url)
        async with dispatching(db):
            await deliveries_once(db, batch.id, lambda found: len(found) >= 1)
            replay_id = await CallbackReplays(db).replay(OWNER, batch.id)
            log = await deliveries_once(db, batch.id, lambda found: len(found) >= 2)
        ids = [headers["webhook-id"] for headers, _ in receiver.raw]

    assert replay_id.startswith(f"{batch.id}.replay-")
    assert ids == [batch.id, replay_id]
    assert [(entry.webhook_id, entry.attempt) for entry in log] == [(batch.id, 1), (replay_id, 1)]
    assert receiver.received[0] == receiver.received[1]  # the same outcome, told again


async def test_a_replay_is_refused_naming_why(
    agents: AgentCommands, batches: BatchCommands, db: Database
) -> None:
    replays = CallbackReplays(db)
    agent = await new_agent(agents)
    unfinished = (await batches.submit(OWNER, [turn(agent.id)], callback_url="http://x.test/cb")).batch
    without_url = (await batches.submit(OWNER, [turn(agent.id)])).batch
    await batches.cancel(OWNER, without_url.id)

    with pytest.raises(NotFound, match="Batch batch-nope not found"):
        await replays.replay(OWNER, "batch-nope")
    with pytest.raises(NotFound):
        await replays.replay("user-someone-else", unfinished.id)
    with pytest.raises(InvalidRequest, match="has no callback_url; there is nothing to replay"):
        await replays.replay(OWNER, without_url.id)
    with pytest.raises(InvalidRequest, match=r"is still created; its callback is sent when it ends"):
        await replays.replay(OWNER, unfinished.id)


def test_a_signature_verifies_only_for_the_exact_body_and_secret() -> None:
    body = b'{"job_id":"batch-1","status":"completed"}'
    headers = signature_headers(SECRET, "batch-1", body, datetime.now(UTC))

    assert headers["webhook-id"] == "batch-1"
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(SECRET).verify(body, headers) == {"job_id": "batch-1", "status": "completed"}
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body.replace(b"completed", b"failed"), headers)
    other = "whsec_" + base64.b64encode(b"another-secret-of-32-bytes-long!").decode()
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(body, headers)


@pytest.mark.parametrize(
    ("attempts", "ceiling"), [(1, 2.0), (2, 4.0), (5, 32.0), (12, 3600.0), (500, 3600.0)]
)
def test_retry_delays_grow_exponentially_with_jitter_up_to_the_cap(attempts: int, ceiling: float) -> None:
    policy = RetryPolicy()
    delays = [policy.delay_s(attempts) for _ in range(500)]
    assert ceiling / 2 <= min(delays) and max(delays) <= ceiling
    assert max(delays) - min(delays) > ceiling / 8  # spread out, so receivers are not hit in lockstep


async def test_a_retry_due_when_the_process_stopped_is_sent_by_the_next_one_as_the_next_attempt(
    db: Database, agents: AgentCommands, batches: BatchCommands
) -> None:
    with CallbackReceiver(statuses=[500]) as receiver:
        batch = await ended_batch(agents, batches, receiver.url)
        async with dispatching(db, policy=RetryPolicy(window_s=60.0, base_s=0.4, max_s=0.4)):
            await deliveries_once(db, batch.id, lambda found: len(found) >= 1)
        # the process stopped with the retry due later; a new one finds it in the database
        async with dispatching(db):
            log = await deliveries_once(db, batch.id, lambda found: len(found) >= 2)
        ids = [headers["webhook-id"] for headers, _ in receiver.raw]

    assert [(entry.attempt, entry.status_code) for entry in log] == [(1, 500), (2, 200)]
    assert ids == [batch.id, batch.id]
    assert log[0].next_attempt_at is not None and log[1].attempted_at >= log[0].next_attempt_at


async def test_two_workers_sharing_a_database_send_each_callback_once(
    db: Database, agents: AgentCommands, batches: BatchCommands
) -> None:
    other_worker = Database(db.url)
    try:
        with CallbackReceiver() as receiver:
            ended = [await ended_batch(agents, batches, receiver.url) for _ in range(4)]
            async with dispatching(db), dispatching(other_worker):
                for batch in ended:
                    await deliveries_once(db, batch.id, lambda found: len(found) >= 1)
            posted = sorted(body["job_id"] for body in receiver.received)
    finally:
        await other_worker.dispose()

    assert posted == sorted(batch.id for batch in ended)


async def test_an_endpoint_that_never_answers_delays_only_its_own_callback(
    db: Database, agents: AgentCommands, batches: BatchCommands
) -> None:
    with socket.socket() as silent, CallbackReceiver() as receiver:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # connections are queued by the kernel, never accepted nor answered
        silent_url = f"http://127.0.0.1:{silent.getsockname()[1]}/hangs"
        stuck = await ended_batch(agents, batches, silent_url)
        fine = await ended_batch(agents, batches, receiver.url)
        async with dispatching(db, policy=RetryPolicy(window_s=0.0), timeout_s=1.5):
            await deliveries_once(db, fine.id, lambda found: len(found) >= 1)
            async with db.read() as conn:
                assert await list_deliveries(conn, stuck.id) == []  # still waiting for its answer
            [timed_out] = await deliveries_once(db, stuck.id, lambda found: len(found) >= 1)

    assert timed_out.status_code is None
    assert timed_out.error is not None and "Timeout" in timed_out.error
