"""Letta agent files: export → import → next turn, and files Letta wrote, through letta-client."""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from letta_client import BadRequestError, Letta

from agentbatch.server import ServerThread
from tests.support.openapi import assert_matches_spec

DATA = Path(__file__).resolve().parents[1] / "data" / "agent_files"
ROLL = '''
def roll(sides: int) -> str:
    """Roll a die.

    Args:
        sides: How many sides the die has.
    """
    return "4"
'''


def _import(client: Letta, content: bytes, **extra: Any) -> list[str]:
    response = client.agents.import_file(file=("agent.af", content, "application/json"), **extra)
    return list(response.agent_ids)


def test_export_import_round_trip_then_the_next_turn_continues(
    live: Letta, live_server: ServerThread
) -> None:
    tool = live.tools.create(source_code=ROLL)
    original = live.agents.create(
        model="openai/gpt-4o-mini",
        memory_blocks=[
            {"label": "human", "value": "Ada", "limit": 300},
            {"label": "persona", "value": "calm"},
        ],
        tool_ids=[tool.id],
        tags=["exported"],
        metadata={"team": "a"},
    ).id
    live.agents.update(
        original, tool_rules=[{"type": "max_count_per_step", "tool_name": "roll", "max_count_limit": 2}]
    )
    live.agents.messages.create(original, input='[[tool:roll {"sides": 6}]] remember the dice')

    exported = live.agents.export_file(original)
    raw = httpx.get(f"{live_server.base_url}/v1/agents/{original}/export").json()
    assert_matches_spec(json.dumps(raw), "GET", "/v1/agents/{agent_id}/export")
    assert {"agents", "blocks", "tools", "groups", "files", "sources", "mcp_servers"} <= set(raw)

    [copy] = _import(live, exported.encode())
    imported = live.agents.retrieve(copy)
    assert copy != original and imported.name == live.agents.retrieve(original).name
    assert [(b.label, b.value, b.limit) for b in imported.memory.blocks] == [
        ("human", "Ada", 300),
        ("persona", "calm", 20000),
    ]
    assert "roll" in {t.name for t in imported.tools} and imported.tags == ["exported"]
    assert [(r.type, r.tool_name) for r in imported.tool_rules or []] == [("max_count_per_step", "roll")]
    assert imported.llm_config.model == "gpt-4o-mini" and imported.metadata == {"team": "a"}
    before = [
        (m.message_type, getattr(m, "content", None))
        for m in live.agents.messages.list(original, order="asc")
    ]
    after = [
        (m.message_type, getattr(m, "content", None)) for m in live.agents.messages.list(copy, order="asc")
    ]
    assert after == before and len(after) == 4

    turn = live.agents.messages.create(
        copy, input='[[tool:conversation_search {"query": "dice"}]] what did I say?'
    )
    assert turn.stop_reason.stop_reason == "end_turn"
    found = next(m for m in turn.messages if m.message_type == "tool_return_message")
    assert "remember the dice" in found.tool_return  # the imported history is the agent's own


@pytest.mark.parametrize(
    ("file", "model"), [("memgpt_agent_with_convo.af", None), ("loop.af", "openai/gpt-4o-mini")]
)
def test_agent_files_written_by_letta_import_and_run(
    live: Letta, live_server: ServerThread, file: str, model: str | None
) -> None:
    content = (DATA / file).read_bytes()
    source = json.loads(content)
    form = {"model": model} if model else {}
    response = httpx.post(
        f"{live_server.base_url}/v1/agents/import", files={"file": (file, content)}, data=form, timeout=30
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert_matches_spec(body, "POST", "/v1/agents/import")
    [agent_id] = body["agent_ids"]

    agent = live.agents.retrieve(agent_id)
    assert {b.label for b in agent.memory.blocks} == {b["label"] for b in source["blocks"]}
    assert agent.system == source["agents"][0]["system"]
    if file == "loop.af":  # web_search, fetch_webpage, archival memory, memory_rethink are not here
        assert any("web_search" in warning for warning in body["warnings"])
        assert "note" in {t.name for t in agent.tools}
        assert len(list(live.agents.messages.list(agent_id))) == 2  # the greeting and its tool result
    turn = live.agents.messages.create(agent_id, input="hello again")
    assert turn.stop_reason.stop_reason == "end_turn"


def test_bad_agent_files_are_clear_client_errors_and_write_nothing(live: Letta) -> None:
    before = len(list(live.agents.list()))
    cases = [
        (b"not json", "not valid JSON"),
        (b'{"core_memory": [], "messages": []}', "legacy"),
        (b'{"agents": []}', "no agent"),
        (
            b'{"agents": [{"id": "agent-0", "block_ids": ["block-9"], "model": "openai/x"}]}',
            "block-9",
        ),
        (
            b'{"agents": [{"id": "agent-0", "llm_config": {"handle": "nowhere/x"}}]}',
            r"agents\[0\]: unknown provider",
        ),
    ]
    for content, problem in cases:
        with pytest.raises(BadRequestError, match=problem):
            _import(live, content)
    assert len(list(live.agents.list())) == before


def test_import_stores_the_same_on_both_databases(client: Letta) -> None:
    """API alone, over SQLite and PostgreSQL: blocks, custom tool, history and kept fields."""
    content = (DATA / "loop.af").read_bytes()
    [agent_id] = _import(client, content, extra_body={"model": "openai/gpt-4o-mini"})
    agent = client.agents.retrieve(agent_id)
    assert len(agent.memory.blocks) == 9 and "note" in {t.name for t in agent.tools}
    assert agent.timezone == "UTC"
    assert [m.message_type for m in client.agents.messages.list(agent_id, order="asc")] == [
        "assistant_message",
        "tool_return_message",
    ]
    again = json.loads(client.agents.export_file(agent_id))
    assert [b["label"] for b in again["blocks"]] == [b.label for b in agent.memory.blocks]
