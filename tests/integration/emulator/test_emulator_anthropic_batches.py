"""Anthropic Message Batches end to end through the official SDK."""

from collections.abc import AsyncIterator
from typing import Any

import anthropic
import pytest
from anthropic import AsyncAnthropic
from anthropic.types.messages import MessageBatch, MessageBatchIndividualResponse

from agentbatch.emulator.config import EmulatorConfig
from agentbatch.emulator.server import EmulatorThread
from tests.integration.emulator.emulator_helpers import LOOKUP_SCHEMA, anthropic_tool, poll_until


def request(custom_id: str, text: str, **params: Any) -> Any:
    body = {
        "model": "claude-haiku-4-5",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": text}],
        **params,
    }
    return {"custom_id": custom_id, "params": body}


async def ended(client: AsyncAnthropic, batch_id: str) -> MessageBatch:
    return await poll_until(
        lambda: client.messages.batches.retrieve(batch_id), lambda batch: batch.processing_status == "ended"
    )


async def results(client: AsyncAnthropic, batch_id: str) -> dict[str, MessageBatchIndividualResponse]:
    decoder = await client.messages.batches.results(batch_id)
    return {entry.custom_id: entry async for entry in decoder}


async def test_a_batch_ends_with_succeeded_errored_and_expired_results(
    emulator: EmulatorThread, anthropic_client: AsyncAnthropic
) -> None:
    tools = [anthropic_tool("lookup", LOOKUP_SCHEMA)]
    created = await anthropic_client.messages.batches.create(
        requests=[
            request("plain", "hello batch"),
            request("tool", "[[tool:lookup]]", tools=tools),
            request("overloaded", "x [[error:529]]"),
            request("late", "[[expire]]"),
        ]
    )
    assert created.processing_status == "in_progress" and created.id.startswith("msgbatch_")
    assert created.request_counts.processing == 4 and created.results_url is None
    assert created.expires_at > created.created_at

    batch = await ended(anthropic_client, created.id)
    counts = batch.request_counts
    assert (counts.processing, counts.succeeded, counts.errored, counts.expired, counts.canceled) == (
        0,
        2,
        1,
        1,
        0,
    )
    assert batch.ended_at is not None and batch.ended_at >= batch.created_at
    assert batch.results_url == f"{emulator.base_url}/v1/messages/batches/{batch.id}/results"

    by_id = await results(anthropic_client, batch.id)
    assert list(by_id) == ["plain", "tool", "overloaded", "late"]
    plain = by_id["plain"].result
    assert plain.type == "succeeded"
    assert plain.message.content[0].type == "text" and plain.message.content[0].text == "echo: hello batch"
    assert plain.message.usage.service_tier == "batch"
    tool = by_id["tool"].result
    assert tool.type == "succeeded" and tool.message.stop_reason == "tool_use"
    errored = by_id["overloaded"].result
    assert errored.type == "errored" and errored.error.error.type == "overloaded_error"
    assert by_id["late"].result.type == "expired"


async def test_requests_stay_processing_until_the_batch_ends(steady_emulator: EmulatorThread) -> None:
    seen = []
    async with AsyncAnthropic(base_url=steady_emulator.base_url, api_key="k", max_retries=0) as client:
        created = await client.messages.batches.create(requests=[request("a", "one"), request("b", "two")])

        async def counts() -> MessageBatch:
            batch = await client.messages.batches.retrieve(created.id)
            seen.append(
                (batch.processing_status, batch.request_counts.processing, batch.request_counts.succeeded)
            )
            return batch

        await poll_until(counts, lambda batch: batch.processing_status == "ended")
    assert seen[0] == ("in_progress", 2, 0)
    assert seen[-1] == ("ended", 0, 2)
    assert all(entry in (("in_progress", 2, 0), ("ended", 0, 2)) for entry in seen)


@pytest.fixture
async def slow_anthropic_client() -> AsyncIterator[AsyncAnthropic]:
    """A client of an emulator whose batches process for 5 s (cancellations settle in 0.5 s)."""
    with EmulatorThread(EmulatorConfig(batch_delay_s=5)) as slow:
        async with AsyncAnthropic(base_url=slow.base_url, api_key="k", max_retries=0) as client:
            yield client


async def test_cancelling_a_batch_mid_way(slow_anthropic_client: AsyncAnthropic) -> None:
    client = slow_anthropic_client
    created = await client.messages.batches.create(
        requests=[request(f"r{index}", "work") for index in range(10)]
    )
    canceling = await client.messages.batches.cancel(created.id)
    assert canceling.processing_status == "canceling" and canceling.cancel_initiated_at is not None
    batch = await ended(client, created.id)
    counts = batch.request_counts
    assert counts.canceled > 0 and counts.succeeded + counts.canceled == 10
    by_id = await results(client, batch.id)
    assert sum(1 for entry in by_id.values() if entry.result.type == "canceled") == counts.canceled


async def test_an_ended_batch_cannot_be_cancelled_but_can_be_deleted(
    anthropic_client: AsyncAnthropic,
) -> None:
    created = await anthropic_client.messages.batches.create(requests=[request("a", "x")])
    with pytest.raises(anthropic.BadRequestError):
        await anthropic_client.messages.batches.delete(created.id)
    await ended(anthropic_client, created.id)
    with pytest.raises(anthropic.BadRequestError):
        await anthropic_client.messages.batches.cancel(created.id)
    deleted = await anthropic_client.messages.batches.delete(created.id)
    assert deleted.id == created.id and deleted.type == "message_batch_deleted"
    with pytest.raises(anthropic.NotFoundError) as caught:
        await anthropic_client.messages.batches.retrieve(created.id)
    assert isinstance(caught.value.body, dict) and caught.value.body["error"]["type"] == "not_found_error"


async def test_batches_are_listed_newest_first_with_after_and_before_paging(
    anthropic_client: AsyncAnthropic,
) -> None:
    ids = [
        (await anthropic_client.messages.batches.create(requests=[request("a", str(n))])).id for n in range(3)
    ]
    newest_first = ids[::-1]
    page = await anthropic_client.messages.batches.list(limit=2)
    assert [batch.id for batch in page.data] == newest_first[:2]
    assert (page.has_more, page.first_id, page.last_id) == (True, newest_first[0], newest_first[1])
    after = await anthropic_client.messages.batches.list(limit=2, after_id=newest_first[1])
    assert ([batch.id for batch in after.data], after.has_more) == ([newest_first[2]], False)
    before = await anthropic_client.messages.batches.list(limit=1, before_id=newest_first[2])
    assert ([batch.id for batch in before.data], before.has_more) == ([newest_first[1]], True)
    assert [batch.id async for batch in anthropic_client.messages.batches.list(limit=1)] == newest_first


async def test_invalid_batch_requests_are_refused(anthropic_client: AsyncAnthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        await anthropic_client.messages.batches.create(requests=[request("same", "a"), request("same", "b")])
    assert "duplicate" in caught.value.message
    with pytest.raises(anthropic.BadRequestError):
        await anthropic_client.messages.batches.create(requests=[request("has space", "a")])


async def test_an_invalid_request_inside_a_batch_is_an_errored_result(
    anthropic_client: AsyncAnthropic,
) -> None:
    bad = {
        "custom_id": "bad",
        "params": {"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "x"}]},
    }
    created = await anthropic_client.messages.batches.create(requests=[bad, request("good", "fine")])
    await ended(anthropic_client, created.id)
    by_id = await results(anthropic_client, created.id)
    result = by_id["bad"].result
    assert result.type == "errored" and result.error.error.type == "invalid_request_error"
    assert "max_tokens" in result.error.error.message
    assert by_id["good"].result.type == "succeeded"
