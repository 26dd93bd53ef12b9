"""Neutral requests → wire bodies at their edges (the full bodies are in tests/unit/test_provider_wire.py):
a model's own tool calls replay unchanged, whatever arguments it wrote, and a batch line carries the very
body a direct call sends."""

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentbatch.domain.messages import Message, Role, ToolCall
from agentbatch.providers import anthropic_wire, openai_wire
from agentbatch.providers.base import ModelRequest
from agentbatch.providers.catalog import WireProtocol
from agentbatch.providers.provider_batches import request_body
from tests.integration.providers.provider_wire_rules import (
    CREATED,
    LOOKUP,
    anthropic_violations,
    assistant,
    openai_violations,
    tool,
    user,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=5)


def request(*history: Message, temperature: float | None = None) -> ModelRequest:
    return ModelRequest(
        model="m", system="sys", messages=list(history), tools=(LOOKUP,), temperature=temperature
    )


def replayed_anthropic_input(call: ToolCall) -> Any:
    body = anthropic_wire.request_body(request(user("go"), assistant(call), tool(call, "done")))
    return body["messages"][1]["content"][0]["input"]


@given(json_objects)
def test_an_anthropic_tool_call_replays_with_exactly_the_input_the_model_gave(
    tool_input: dict[str, Any],
) -> None:
    reply = anthropic_wire.parse_response(
        {"content": [{"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": tool_input}]}
    )
    assert replayed_anthropic_input(reply.tool_calls[0]) == tool_input


@given(st.text(max_size=40))
def test_openai_tool_call_arguments_replay_byte_for_byte(arguments: str) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": arguments}}
    reply = openai_wire.parse_response({"choices": [{"message": {"tool_calls": [call]}}]})
    body = openai_wire.request_body(
        request(user("go"), assistant(*reply.tool_calls), tool(reply.tool_calls[0], "ok"))
    )
    assert body["messages"][2]["tool_calls"][0]["function"]["arguments"] == (arguments or "")


@pytest.mark.parametrize(
    ("arguments", "tool_input"),
    [
        ("", {}),
        ("{}", {}),
        ('{"query": "x"}', {"query": "x"}),
        ("[1, 2]", {"INVALID_JSON": "[1, 2]"}),  # JSON, but not an object
        ('"text"', {"INVALID_JSON": '"text"'}),
        ("null", {"INVALID_JSON": "null"}),
        ("{'query': 'x'}", {"INVALID_JSON": "{'query': 'x'}"}),
    ],
)
def test_arguments_anthropic_cannot_take_as_an_object_go_back_wrapped(
    arguments: str, tool_input: Any
) -> None:
    assert replayed_anthropic_input(ToolCall("toolu_1", "lookup", arguments)) == tool_input


def test_several_results_in_one_tool_message_answer_each_call() -> None:
    first, second = ToolCall("call_1", "lookup", "{}"), ToolCall("call_2", "lookup", "{}")
    results = tool(first, "one")
    results.tool_returns.append(tool(second, "two", status="error").tool_returns[0])
    history = [user("go"), assistant(first, second), results]

    openai_body = openai_wire.request_body(request(*history))
    anthropic_body = anthropic_wire.request_body(request(*history))

    assert openai_body["messages"][3:] == [
        {"role": "tool", "tool_call_id": "call_1", "content": "one"},
        {"role": "tool", "tool_call_id": "call_2", "content": "two"},
    ]
    assert [
        (block["tool_use_id"], block["is_error"]) for block in anthropic_body["messages"][2]["content"]
    ] == [
        ("call_1", False),
        ("call_2", True),
    ]
    assert openai_violations(openai_body) == [] and anthropic_violations(anthropic_body) == []


def test_messages_with_nothing_to_say_are_left_out_of_an_anthropic_body() -> None:
    empty_user = Message("message-2", "agent-1", Role.USER, CREATED)
    bare_approval = Message("message-3", "agent-1", Role.APPROVAL, CREATED, approve=True)
    body = anthropic_wire.request_body(
        request(user("hi"), empty_user, bare_approval, assistant(text="hello"))
    )
    assert [message["role"] for message in body["messages"]] == ["user", "assistant"]
    assert body["messages"][0]["content"] == [{"type": "text", "text": "hi"}]
    assert anthropic_violations(body) == []


def test_consecutive_assistant_messages_merge_into_one_anthropic_turn() -> None:
    call = ToolCall("toolu_1", "lookup", '{"query": "q"}')
    body = anthropic_wire.request_body(request(user("go"), assistant(text="Let me check."), assistant(call)))
    assert body["messages"][1] == {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"query": "q"}},
        ],
    }


def test_a_temperature_of_zero_is_sent_not_dropped() -> None:
    assert openai_wire.request_body(request(user("hi"), temperature=0.0))["temperature"] == 0.0
    assert anthropic_wire.request_body(request(user("hi"), temperature=0.0))["temperature"] == 0.0


@pytest.mark.parametrize("protocol", list(WireProtocol))
def test_a_provider_batch_line_carries_the_body_a_direct_call_sends(protocol: WireProtocol) -> None:
    modelled = request(user("hi"), assistant(ToolCall("c1", "lookup", '{"query":"x"}')), temperature=0.2)
    direct = (openai_wire if protocol is WireProtocol.OPENAI else anthropic_wire).request_body(modelled)
    assert request_body(protocol, modelled) == direct
    assert orjson.loads(orjson.dumps(request_body(protocol, modelled))) == direct  # plain JSON throughout
