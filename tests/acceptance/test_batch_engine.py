"""Batches run to their end by the engine: outcomes per request, order per agent, cancel, expiry."""

from typing import Any

import pytest
from letta_client import Letta
from letta_client.types import BatchJob

from tests.support.polling import wait_for
from tests.support.turns import message_types

MODEL = "openai/gpt-4o-mini"


def finished(client: Letta, batch_id: str, timeout: float = 30) -> BatchJob:
    return wait_for(
        lambda: (
            (batch := client.batches.retrieve(batch_id)).status
            in ("completed", "cancelled", "expired", "failed")
            and batch
        ),
        timeout=timeout,
        what=f"batch {batch_id} to end",
    )


def items(client: Letta, batch_id: str) -> list[dict[str, Any]]:
    found = client.get(f"/v1/messages/batches/{batch_id}/items?order=asc&limit=1000", cast_to=object)
    assert isinstance(found, list)
    return found


def test_a_mixed_batch_completes_with_each_outcome_reported_per_request(live: Letta) -> None:
    agents = [live.agents.create(model=MODEL, name=f"a{i}").id for i in range(4)]
    scripts = [
        "hello",
        "[[tool:conversation_search]] look",
        "[[error:400:always]] doomed",
        "[[tool:nope]] bad",
    ]

    batch = live.batches.create(
        requests=[{"agent_id": a, "input": s} for a, s in zip(agents, scripts, strict=True)]
    )
    done = finished(live, batch.id)

    assert done.status == "completed" and done.stop_reason is None  # the requests ended differently
    assert done.completed_at is not None and done.total_duration_ns and done.total_duration_ns > 0
    assert done.ttft_ns and 0 < done.ttft_ns <= done.total_duration_ns
    extra = done.model_extra or {}
    assert extra["request_counts"] == {
        "total": 4,
        "pending": 0,
        "running": 0,
        "succeeded": 2,
        "errored": 2,
        "cancelled": 0,
        "expired": 0,
    }
    assert extra["usage"]["prompt_tokens"] > 0
    outcomes = [(item["status"], item["stop_reason"], item["step_count"]) for item in items(live, batch.id)]
    assert outcomes == [
        ("succeeded", "end_turn", 1),
        ("succeeded", "end_turn", 2),
        ("errored", "llm_api_error", 0),
        ("errored", "invalid_tool_call", 1),
    ]
    assert "400" in (items(live, batch.id)[2]["error"] or "")


def test_batch_messages_are_role_based_and_paginate_exactly(live: Letta) -> None:
    agents = [live.agents.create(model=MODEL).id for _ in range(3)]
    batch = live.batches.create(
        requests=[{"agent_id": a, "input": "[[tool:conversation_search]] q"} for a in agents]
    )
    finished(live, batch.id)

    forward = list(live.batches.messages.list(batch.id, limit=3, order="asc"))
    backward = list(live.batches.messages.list(batch.id, limit=4, order="desc"))
    one_agent = list(live.batches.messages.list(batch.id, agent_id=agents[1], limit=2, order="asc"))

    assert len(forward) == 3 * 4  # user, assistant with tool call, tool result, final assistant
    assert [m.id for m in backward] == [m.id for m in reversed(forward)]
    assert [m.role for m in one_agent] == ["user", "assistant", "tool", "assistant"]
    assert all(m.agent_id == agents[1] and m.batch_item_id for m in one_agent)
    call = one_agent[1].tool_calls[0]
    assert call.function.name == "conversation_search" and one_agent[2].tool_call_id == call.id
    assert one_agent[3].content[0].text == "echo: q"


def test_requests_for_one_agent_run_one_at_a_time_in_order(live: Letta) -> None:
    agent = live.agents.create(model=MODEL).id
    other = live.agents.create(model=MODEL).id
    requests = [{"agent_id": agent, "input": f"turn {i} [[sleep:30]]"} for i in range(5)]
    requests.insert(2, {"agent_id": other, "input": "elsewhere"})

    finished(live, live.batches.create(requests=requests).id)

    history = list(live.agents.messages.list(agent, order="asc"))
    texts = [m.content for m in history]
    assert texts == [text for i in range(5) for text in (f"turn {i} [[sleep:30]]", f"echo: turn {i}")]


def test_cancel_stops_a_running_batch_and_keeps_finished_work(live: Letta) -> None:
    quick, slow = (live.agents.create(model=MODEL).id for _ in range(2))
    batch = live.batches.create(
        requests=[{"agent_id": quick, "input": "fast"}, {"agent_id": slow, "input": "[[sleep:20000]] slow"}]
    )
    wait_for(
        lambda: [i["status"] for i in items(live, batch.id)] == ["succeeded", "running"], what="one done"
    )

    cancelled = live.batches.cancel(batch.id)

    assert isinstance(cancelled, dict) and cancelled["status"] == "cancelled"
    assert [(i["status"], i["stop_reason"]) for i in items(live, batch.id)] == [
        ("succeeded", "end_turn"),
        ("cancelled", "cancelled"),
    ]
    assert message_types(list(live.agents.messages.list(quick, order="asc"))) == [
        "user_message",
        "assistant_message",
    ]
    # The slow agent is free at once: its in-flight call was abandoned, not waited for.
    after = live.agents.messages.create(slow, input="are you there?")
    assert after.stop_reason.stop_reason == "end_turn"
    assert message_types(list(live.agents.messages.list(slow, order="asc"))) == [
        "user_message",
        "assistant_message",
    ]


def test_a_batch_past_its_completion_window_expires(live: Letta) -> None:
    agent = live.agents.create(model=MODEL).id
    batch = live.batches.create(
        requests=[{"agent_id": agent, "input": "[[sleep:20000]] never in time"}],
        extra_body={"completion_window": "1s"},
    )

    done = finished(live, batch.id, timeout=20)

    assert done.status == "expired" and done.completed_at is not None
    assert [i["status"] for i in items(live, batch.id)] == ["expired"]


@pytest.mark.parametrize("count", [2_000])
def test_a_large_batch_is_accepted_in_one_call(live: Letta, count: int) -> None:
    agents = [live.agents.create(model=MODEL).id for _ in range(20)]
    batch = live.batches.create(
        requests=[{"agent_id": agents[i % 20], "input": f"n{i}"} for i in range(count)]
    )
    assert (batch.model_extra or {})["request_counts"]["total"] == count
    done = finished(live, batch.id, timeout=120)
    assert (done.model_extra or {})["request_counts"]["succeeded"] == count
