"""The OpenAI Batch API end to end through the official SDK."""

import json
from collections.abc import AsyncIterator
from typing import Any, Final

import openai
import pytest
from openai import AsyncOpenAI
from openai.types import Batch
from openai.types.chat import ChatCompletion

from agentbatch.emulator.config import EmulatorConfig
from agentbatch.emulator.server import EmulatorThread
from tests.integration.emulator.emulator_helpers import LOOKUP_SCHEMA, openai_tool, poll_until

URL: Final = "/v1/chat/completions"
DONE = {"completed", "expired", "failed", "cancelled"}


def line(custom_id: str, text: str, **body: Any) -> dict[str, Any]:
    payload = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], **body}
    return {"custom_id": custom_id, "method": "POST", "url": URL, "body": payload}


def jsonl(entries: list[Any]) -> bytes:
    return b"".join(
        (entry if isinstance(entry, bytes) else json.dumps(entry).encode()) + b"\n" for entry in entries
    )


async def submit(client: AsyncOpenAI, entries: list[Any], **params: Any) -> Batch:
    uploaded = await client.files.create(
        file=("input.jsonl", jsonl(entries), "application/jsonl"), purpose="batch"
    )
    batch: Batch = await client.batches.create(
        input_file_id=uploaded.id, endpoint=URL, completion_window="24h", **params
    )
    return batch


async def finished(client: AsyncOpenAI, batch_id: str) -> Batch:
    return await poll_until(lambda: client.batches.retrieve(batch_id), lambda batch: batch.status in DONE)


async def file_lines(client: AsyncOpenAI, file_id: str | None) -> dict[str, dict[str, Any]]:
    assert file_id is not None
    content = await client.files.content(file_id)
    records = [json.loads(raw) for raw in content.text.splitlines()]
    return {record["custom_id"]: record for record in records}


async def test_a_batch_runs_to_completion_with_outputs_and_errors(openai_client: AsyncOpenAI) -> None:
    tools = [openai_tool("lookup", LOOKUP_SCHEMA)]
    entries = [
        line("plain", "hello batch"),
        line("tool", "[[tool:lookup]]", tools=tools),
        line("broken", "fail me [[error:500]]"),
    ]
    created = await submit(openai_client, entries, metadata={"purpose": "test"})
    assert created.status == "validating"
    assert created.metadata == {"purpose": "test"}
    assert created.request_counts is not None and created.request_counts.total == 3

    batch = await finished(openai_client, created.id)
    assert batch.status == "completed"
    assert batch.request_counts is not None
    assert (batch.request_counts.total, batch.request_counts.completed, batch.request_counts.failed) == (
        3,
        2,
        1,
    )
    assert batch.in_progress_at and batch.finalizing_at and batch.completed_at
    assert batch.created_at <= batch.in_progress_at <= batch.finalizing_at <= batch.completed_at
    # the successful lines' tokens: "hello batch" (2) + "[[tool:lookup]]" with its tool name and "A tool." (4)
    assert batch.usage is not None and (batch.usage.input_tokens, batch.usage.output_tokens) == (6, 4)

    outputs = await file_lines(openai_client, batch.output_file_id)
    assert set(outputs) == {"plain", "tool"}
    plain = outputs["plain"]
    assert plain["id"].startswith("batch_req_") and plain["error"] is None
    assert plain["response"]["status_code"] == 200
    completion = ChatCompletion.model_validate(plain["response"]["body"])
    assert completion.choices[0].message.content == "echo: hello batch"
    tool_call = outputs["tool"]["response"]["body"]["choices"][0]["message"]["tool_calls"][0]
    assert tool_call["function"] == {"name": "lookup", "arguments": '{"query":"query-value"}'}

    errors = await file_lines(openai_client, batch.error_file_id)
    assert set(errors) == {"broken"}
    assert errors["broken"]["response"]["status_code"] == 500
    assert errors["broken"]["response"]["body"]["error"]["type"] == "server_error"


async def test_the_batch_passes_through_its_states_in_order(steady_emulator: EmulatorThread) -> None:
    async with AsyncOpenAI(base_url=f"{steady_emulator.base_url}/v1", api_key="k", max_retries=0) as client:
        batch = await submit(client, [line("a", "one"), line("b", "two")])
        seen: list[str] = []

        async def status() -> str:
            seen.append((await client.batches.retrieve(batch.id)).status)
            return seen[-1]

        await poll_until(status, lambda current: current in DONE)
    assert seen[-1] == "completed"
    assert "in_progress" in seen
    order = ["validating", "in_progress", "finalizing", "completed"]
    assert [order.index(state) for state in seen] == sorted(order.index(state) for state in seen)


async def test_an_expired_line_ends_the_batch_expired(openai_client: AsyncOpenAI) -> None:
    batch = await finished(
        openai_client, (await submit(openai_client, [line("ok", "fine"), line("late", "[[expire]]")])).id
    )
    assert batch.status == "expired"
    assert batch.expired_at is not None and batch.completed_at is None
    assert batch.request_counts is not None and (
        batch.request_counts.completed,
        batch.request_counts.failed,
    ) == (1, 1)
    errors = await file_lines(openai_client, batch.error_file_id)
    assert errors["late"]["response"] is None
    assert errors["late"]["error"]["code"] == "batch_expired"
    assert set(await file_lines(openai_client, batch.output_file_id)) == {"ok"}


async def test_an_invalid_input_file_fails_the_batch_with_line_errors(openai_client: AsyncOpenAI) -> None:
    wrong_url = {**line("b", "x"), "url": "/v1/embeddings"}
    entries: list[Any] = [line("a", "fine"), b"{not json", wrong_url, line("a", "duplicate id")]
    batch = await finished(openai_client, (await submit(openai_client, entries)).id)
    assert batch.status == "failed"
    assert batch.failed_at is not None and batch.in_progress_at is None
    assert batch.output_file_id is None and batch.error_file_id is None
    assert batch.errors is not None and batch.errors.data is not None
    problems = [(error.code, error.line) for error in batch.errors.data]
    assert problems == [("invalid_json_line", 2), ("invalid_url", 3), ("duplicate_custom_id", 4)]


@pytest.fixture
async def slow_openai_client() -> AsyncIterator[AsyncOpenAI]:
    """A client of an emulator whose batches stay in progress for 5 s (cancellations settle in 0.5 s)."""
    with EmulatorThread(EmulatorConfig(batch_delay_s=5)) as slow:
        async with AsyncOpenAI(base_url=f"{slow.base_url}/v1", api_key="k", max_retries=0) as client:
            yield client


async def test_cancelling_a_batch_mid_way(slow_openai_client: AsyncOpenAI) -> None:
    client = slow_openai_client
    batch = await submit(client, [line(f"r{index}", f"request {index}") for index in range(20)])
    await poll_until(
        lambda: client.batches.retrieve(batch.id),
        lambda current: current.request_counts is not None and current.request_counts.completed > 0,
    )
    cancelling = await client.batches.cancel(batch.id)
    assert cancelling.status == "cancelling" and cancelling.cancelling_at is not None
    cancelled = await finished(client, batch.id)
    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
    counts = cancelled.request_counts
    assert counts is not None and counts.total == 20 and counts.completed + counts.failed == 20
    assert counts.completed > 0 and counts.failed > 0
    assert len(await file_lines(client, cancelled.output_file_id)) == counts.completed
    errors = await file_lines(client, cancelled.error_file_id)
    assert len(errors) == counts.failed
    assert {record["error"]["code"] for record in errors.values()} == {"batch_cancelled"}


async def test_a_finished_batch_cannot_be_cancelled(openai_client: AsyncOpenAI) -> None:
    batch = await finished(openai_client, (await submit(openai_client, [line("a", "x")])).id)
    with pytest.raises(openai.BadRequestError):
        await openai_client.batches.cancel(batch.id)


async def test_batches_are_listed_newest_first_with_cursor_paging(openai_client: AsyncOpenAI) -> None:
    ids = [(await submit(openai_client, [line("a", f"batch {index}")])).id for index in range(3)]
    first_page = await openai_client.batches.list(limit=2)
    assert [batch.id for batch in first_page.data] == [ids[2], ids[1]]
    assert first_page.has_more is True
    second_page = await openai_client.batches.list(limit=2, after=ids[1])
    assert [batch.id for batch in second_page.data] == [ids[0]]
    assert second_page.has_more is False
    assert [batch.id async for batch in openai_client.batches.list(limit=1)] == ids[::-1]


async def test_files_can_be_retrieved_and_unknown_ids_are_404s(openai_client: AsyncOpenAI) -> None:
    uploaded = await openai_client.files.create(
        file=("in.jsonl", jsonl([line("a", "x")]), "application/jsonl"), purpose="batch"
    )
    retrieved = await openai_client.files.retrieve(uploaded.id)
    assert (retrieved.filename, retrieved.purpose, retrieved.bytes) == (
        "in.jsonl",
        "batch",
        len(jsonl([line("a", "x")])),
    )
    with pytest.raises(openai.NotFoundError):
        await openai_client.files.retrieve("file-missing")
    with pytest.raises(openai.NotFoundError):
        await openai_client.files.content("file-missing")
    with pytest.raises(openai.NotFoundError) as caught:
        await openai_client.batches.retrieve("batch_missing")
    assert "batch_missing" in caught.value.message
