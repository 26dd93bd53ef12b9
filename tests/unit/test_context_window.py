"""Fitting a history into the context window: newest first, tool calls kept with their results."""

from datetime import UTC, datetime

import pytest

from agentbatch.domain.messages import Message, Role, ToolCall, ToolReturn, text_part
from agentbatch.providers.base import ToolSpec
from agentbatch.runtime.context_window import SystemPromptOverflow, fit

NOW = datetime.now(UTC)


def _message(n: int, role: Role = Role.USER, text: str = "x" * 40) -> Message:
    return Message(id=f"m{n}", agent_id="a", role=role, created_at=NOW, content=[text_part(text)])


def _call(n: int) -> list[Message]:
    call = Message(
        id=f"c{n}",
        agent_id="a",
        role=Role.ASSISTANT,
        created_at=NOW,
        tool_calls=[ToolCall(id=f"call{n}", name="t", arguments="{}")],
    )
    result = Message(
        id=f"r{n}",
        agent_id="a",
        role=Role.TOOL,
        created_at=NOW,
        tool_call_id=f"call{n}",
        tool_returns=[ToolReturn(tool_call_id=f"call{n}", status="success", content="y" * 40)],
    )
    return [call, result]


def test_everything_fits_in_a_large_window() -> None:
    history = [_message(n) for n in range(10)]
    window = fit("system", [], history, context_window=100_000, output_reserve=1000)
    assert window.messages == history and window.dropped == 0


def test_the_newest_messages_are_kept_when_the_window_is_small() -> None:
    history = [_message(n) for n in range(50)]
    window = fit("system", [], history, context_window=400, output_reserve=100)
    assert 0 < len(window.messages) < 50
    assert window.messages == history[-len(window.messages) :] and window.dropped == 50 - len(window.messages)


def test_the_window_never_opens_on_a_tool_result_without_its_call() -> None:
    history = [_message(0), *_call(1), _message(2)]
    for size in range(60, 200, 5):
        try:
            window = fit("s", [], history, context_window=size, output_reserve=0)
        except SystemPromptOverflow:
            continue
        assert window.messages[0].role is not Role.TOOL


def test_a_system_prompt_that_leaves_no_room_is_an_overflow() -> None:
    with pytest.raises(SystemPromptOverflow, match="no room"):
        fit("s" * 4000, [], [_message(0)], context_window=500, output_reserve=100)


def test_tool_schemas_take_their_size_from_the_window() -> None:
    history = [_message(n) for n in range(50)]
    big_schema = {"type": "object", "properties": {f"field_{n}": {"type": "string"} for n in range(100)}}
    bare = fit("system", [], history, context_window=1_200, output_reserve=100)
    with_tool = fit(
        "system", [ToolSpec("t", "d", big_schema)], history, context_window=1_200, output_reserve=100
    )
    assert len(with_tool.messages) < len(bare.messages)


def test_a_schema_json_cannot_encode_still_counts_against_the_window() -> None:
    # An integer past 64 bits (orjson refuses it) in a client tool's schema: estimated from its text.
    schema = {"type": "integer", "maximum": 10**40, "description": "x" * 4_000}
    with pytest.raises(SystemPromptOverflow):
        fit("s", [ToolSpec("t", "d", schema)], [_message(0)], context_window=1_000, output_reserve=100)
