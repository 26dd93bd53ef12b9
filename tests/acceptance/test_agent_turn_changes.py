"""Changes that meet a running turn, approvals and tool rules, with the worker and the emulator."""

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from letta_client import Letta

from agentbatch.server import ServerThread
from tests.support.polling import wait_for
from tests.support.turns import message_types

MODEL = "openai/gpt-4o-mini"
ROLL = '''
def roll(sides: int) -> str:
    """Roll a die.

    Args:
        sides: How many sides the die has.
    """
    return "4"
'''


def _agent(client: Letta, **extra: Any) -> str:
    blocks = [{"label": "human", "value": "Ada", "limit": 500}]
    return client.agents.create(model=MODEL, memory_blocks=blocks, **extra).id


def _human(client: Letta, agent_id: str) -> str:
    return client.agents.blocks.retrieve("human", agent_id=agent_id).value


def test_an_update_racing_a_running_turn_loses_nothing_and_waits_for_the_next_turn(live: Letta) -> None:
    agent_id = _agent(live)
    append = next(iter(live.tools.list(name="core_memory_append")))
    script = (
        "[[sleep:1500]] [[tool:conversation_search]] "
        '[[tool:core_memory_append {"label": "human", "content": "Likes tea"}]] go'
    )
    with ThreadPoolExecutor(1) as pool:
        turn = pool.submit(live.agents.messages.create, agent_id, input=script)
        # The first step is committed (its input is visible): the memory edit comes in the next step.
        wait_for(lambda: list(live.agents.messages.list(agent_id)), timeout=20, what="first step")
        live.agents.blocks.update("human", agent_id=agent_id, value="Ada Lovelace", description="who")
        live.agents.tools.detach(append.id, agent_id=agent_id)
        live.agents.update(agent_id, name="renamed", tags=["raced"])
        response = turn.result(timeout=30)

    # The running turn kept its tools (the detach applies from the next turn) and finished normally.
    assert response.stop_reason.stop_reason == "end_turn"
    returns = [m for m in response.messages if m.message_type == "tool_return_message"]
    assert [m.status for m in returns] == ["success", "success"]
    # Both the API's edit and the turn's own memory edit survive; so does every other change.
    assert _human(live, agent_id) == "Ada Lovelace\nLikes tea"
    after = live.agents.retrieve(agent_id)
    assert after.name == "renamed" and after.tags == ["raced"]
    assert next(b for b in after.memory.blocks if b.label == "human").description == "who"
    # The next turn no longer has the detached tool.
    nxt = live.agents.messages.create(
        agent_id, input='[[tool:core_memory_append {"label": "human", "content": "x"}]] hi'
    )
    assert nxt.stop_reason.stop_reason == "invalid_tool_call"


def test_cancel_stops_a_running_synchronous_turn_at_once(live: Letta) -> None:
    agent_id = _agent(live)
    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        turn = pool.submit(live.agents.messages.create, agent_id, input="[[sleep:8000]] slow")
        cancelled = wait_for(
            lambda: live.agents.messages.cancel(agent_id), timeout=10, what="a turn to cancel"
        )
        response = turn.result(timeout=30)
    assert list(cancelled.values()) == ["cancelled"]
    assert response.stop_reason.stop_reason == "cancelled"
    assert time.monotonic() - started < 6  # the provider call was aborted, not waited out
    assert live.agents.retrieve(agent_id).last_stop_reason != "end_turn"
    # The agent is free again: the next turn runs.
    assert live.agents.messages.create(agent_id, input="again").stop_reason.stop_reason == "end_turn"


def test_cancel_ends_a_batch_request_and_lets_the_agent_go_on(live: Letta, live_server: ServerThread) -> None:
    agent_id = _agent(live)
    batch = live.batches.create(
        requests=[
            {"agent_id": agent_id, "messages": [{"role": "user", "content": "[[sleep:8000]] slow"}]},
            {"agent_id": agent_id, "messages": [{"role": "user", "content": "next"}]},
        ]
    )
    items_url = f"{live_server.base_url}/v1/messages/batches/{batch.id}/items?order=asc"

    def statuses() -> list[str]:
        return [item["status"] for item in httpx.get(items_url).json()]

    wait_for(lambda: statuses()[0] == "running", timeout=10, what="the first request to run")
    cancelled = live.agents.messages.cancel(agent_id)

    assert len(cancelled) == 1
    wait_for(lambda: statuses() == ["cancelled", "succeeded"], timeout=20, what="the second request to run")


def test_a_tool_that_requires_approval_waits_and_runs_once_approved(live: Letta) -> None:
    agent_id = _agent(live, include_base_tools=False)
    tool = live.tools.create(source_code=ROLL)
    live.agents.tools.attach(tool.id, agent_id=agent_id)
    live.agents.tools.update_approval("roll", agent_id=agent_id, body_requires_approval=True)

    paused = live.agents.messages.create(agent_id, input='[[tool:roll {"sides": 6}]] roll it')

    assert paused.stop_reason.stop_reason == "requires_approval"
    assert message_types(paused.messages) == ["approval_request_message"]
    waiting = live.agents.retrieve(agent_id)
    assert waiting.pending_approval is not None and waiting.pending_approval.id == paused.messages[0].id
    assert len(waiting.message_ids or []) == 2  # the input and the approval request
    approved = live.agents.messages.create(
        agent_id,
        messages=[{"type": "approval", "approve": True, "approval_request_id": paused.messages[0].id}],
    )
    assert approved.stop_reason.stop_reason == "end_turn"
    assert message_types(approved.messages) == [
        "approval_response_message",
        "tool_return_message",
        "assistant_message",
    ]
    assert approved.messages[1].tool_return == "4" and approved.messages[1].status == "success"
    assert live.agents.retrieve(agent_id).pending_approval is None

    denied_turn = live.agents.messages.create(agent_id, input='[[tool:roll {"sides": 6}]] again')
    denied = live.agents.messages.create(
        agent_id,
        messages=[
            {
                "type": "approval",
                "approve": False,
                "reason": "no dice",
                "approval_request_id": denied_turn.messages[0].id,
            }
        ],
    )
    assert "no dice" in denied.messages[1].tool_return and denied.messages[1].status == "error"
