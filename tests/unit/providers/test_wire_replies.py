"""Provider replies → neutral responses at their edges: stop reasons, tool calls, usage, malformed bodies.

The happy paths are in tests/unit/test_provider_wire.py; these are the replies a real provider, a proxy
or an OpenAI-compatible server sends now and then.
"""

from typing import Any

import pytest

from agentbatch.domain.messages import ToolCall
from agentbatch.providers import anthropic_wire, openai_wire
from agentbatch.providers.base import Finish
from agentbatch.providers.catalog import WireProtocol
from agentbatch.providers.errors import InvalidResponse
from agentbatch.providers.provider_batches import parse_reply


def openai_reply(message: dict[str, Any], finish: str | None = "stop", **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-x", "choices": [{"message": message, "finish_reason": finish}], **extra}


def anthropic_reply(*blocks: dict[str, Any], stop: str | None = "end_turn", **extra: Any) -> dict[str, Any]:
    return {"model": "claude-x", "content": list(blocks), "stop_reason": stop, **extra}


@pytest.mark.parametrize(
    ("finish_reason", "finish"),
    [
        ("stop", "stop"),
        ("tool_calls", "tool_calls"),
        ("length", "length"),
        ("content_filter", "other"),
        ("function_call", "other"),
        (None, "other"),
    ],
)
def test_openai_finish_reasons(finish_reason: str | None, finish: Finish) -> None:
    assert openai_wire.parse_response(openai_reply({"content": "hi"}, finish_reason)).finish == finish


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("tool_use", "tool_calls"),
        ("max_tokens", "length"),
        ("refusal", "other"),
        ("pause_turn", "other"),
        (None, "other"),
    ],
)
def test_anthropic_stop_reasons(stop_reason: str | None, finish: Finish) -> None:
    reply = anthropic_reply({"type": "text", "text": "hi"}, stop=stop_reason)
    assert anthropic_wire.parse_response(reply).finish == finish


def test_openai_keeps_function_calls_in_order_and_skips_other_kinds_of_tool_call() -> None:
    calls = [
        {"id": "call_a", "type": "function", "function": {"name": "first", "arguments": '{"x":1}'}},
        {"id": "call_b", "type": "custom", "custom": {"name": "grammar", "input": "..."}},
        {"id": "call_c", "function": {"name": "second", "arguments": None}},  # no type: a function
    ]
    reply = openai_wire.parse_response(openai_reply({"content": None, "tool_calls": calls}, "tool_calls"))
    assert reply.tool_calls == [ToolCall("call_a", "first", '{"x":1}'), ToolCall("call_c", "second", "")]
    assert reply.text == ""


def test_openai_tool_call_arguments_are_passed_on_verbatim_even_when_broken() -> None:
    broken = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a": tru'}}
    reply = openai_wire.parse_response(openai_reply({"tool_calls": [broken]}, "tool_calls"))
    assert reply.tool_calls[0].arguments == '{"a": tru'


@pytest.mark.parametrize(
    ("tool_input", "arguments"),
    [
        (None, "{}"),
        ({}, "{}"),
        ({"q": "ä", "n": [1, 2]}, '{"q":"ä","n":[1,2]}'),
        ({"INVALID_JSON": '{"a": '}, '{"a": '),
        # not Anthropic's wrapper (another key beside it, or not a string): real arguments, kept as JSON
        ({"INVALID_JSON": '{"a": ', "b": 1}, '{"INVALID_JSON":"{\\"a\\": ","b":1}'),
        ({"INVALID_JSON": 5}, '{"INVALID_JSON":5}'),
    ],
)
def test_anthropic_tool_inputs_become_json_argument_text(tool_input: Any, arguments: str) -> None:
    block = {"type": "tool_use", "id": "toolu_1", "name": "f", "input": tool_input}
    reply = anthropic_wire.parse_response(anthropic_reply(block, stop="tool_use"))
    assert reply.tool_calls == [ToolCall("toolu_1", "f", arguments)]


def test_anthropic_joins_text_blocks_and_keeps_redacted_thinking() -> None:
    reply = anthropic_wire.parse_response(
        anthropic_reply(
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "text", "text": "Hello, "},
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}},
            {"type": "text", "text": "world."},
        )
    )
    assert reply.text == "Hello, world."
    assert reply.reasoning == [{"type": "redacted_reasoning", "data": "opaque"}]
    assert reply.tool_calls == []  # the provider's own server tools are not the agent's calls


@pytest.mark.parametrize(
    ("parse", "body"),
    [
        (openai_wire.parse_response, openai_reply({"content": "hi"})),
        (openai_wire.parse_response, openai_reply({"content": "hi"}, usage=None)),
        (openai_wire.parse_response, openai_reply({"content": "hi"}, usage={"prompt_tokens": None})),
        (anthropic_wire.parse_response, anthropic_reply({"type": "text", "text": "hi"})),
        (anthropic_wire.parse_response, anthropic_reply({"type": "text", "text": "hi"}, usage=None)),
    ],
)
def test_a_reply_without_usage_counts_zero_tokens_rather_than_failing(
    parse: Any, body: dict[str, Any]
) -> None:
    reply = parse(body)
    assert reply.text == "hi"
    assert (reply.prompt_tokens, reply.completion_tokens, reply.cached_tokens, reply.cache_write_tokens) == (
        0,
        0,
        0,
        0,
    )


def test_openai_cached_tokens_tolerate_null_details() -> None:
    usage = {"prompt_tokens": 10, "completion_tokens": 2, "prompt_tokens_details": None}
    reply = openai_wire.parse_response(openai_reply({"content": "hi"}, usage=usage))
    assert (reply.prompt_tokens, reply.cached_tokens) == (10, 0)


def test_the_replying_model_is_reported_and_missing_means_empty() -> None:
    assert openai_wire.parse_response(openai_reply({"content": "x"})).model == "gpt-x"
    no_model = openai_reply({"content": "x"})
    del no_model["model"]
    assert openai_wire.parse_response(no_model).model == ""
    assert anthropic_wire.parse_response(anthropic_reply()).model == "claude-x"


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "an HTML error page",
        {},
        {"choices": None},
        {"choices": [{}]},
        {"choices": [{"message": None}]},
        {"choices": ["text"]},
        {"choices": [{"message": {"tool_calls": [{"type": "function"}]}}]},  # a call without id or function
        {"error": {"message": "overloaded", "type": "server_error"}},
    ],
)
def test_an_unusable_openai_body_is_an_invalid_response_naming_what_came(body: Any) -> None:
    with pytest.raises(InvalidResponse, match="unusable chat completion"):
        openai_wire.parse_response(body)


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {},
        {"content": "plain text"},
        {"content": [None]},
        {"content": [{"type": "text"}]},  # text block without its text
        {"content": [{"type": "tool_use", "name": "f"}]},  # a call without its id
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    ],
)
def test_an_unusable_anthropic_body_is_an_invalid_response_naming_what_came(body: Any) -> None:
    with pytest.raises(InvalidResponse, match="unusable message"):
        anthropic_wire.parse_response(body)


def test_an_invalid_response_is_not_retried_and_does_not_pause_the_provider() -> None:
    with pytest.raises(InvalidResponse) as caught:
        openai_wire.parse_response({"choices": []})
    assert not caught.value.retryable and not caught.value.pauses_provider


def test_the_body_quoted_in_an_invalid_response_is_bounded() -> None:
    huge = {"choices": [], "padding": "x" * 100_000}
    with pytest.raises(InvalidResponse) as caught:
        openai_wire.parse_response(huge)
    assert len(str(caught.value)) < 400


@pytest.mark.parametrize(
    ("protocol", "body"),
    [
        (WireProtocol.OPENAI, openai_reply({"content": "from a batch"}, usage={"prompt_tokens": 3})),
        (WireProtocol.ANTHROPIC, anthropic_reply({"type": "text", "text": "from a batch"})),
    ],
)
def test_a_provider_batch_reply_parses_exactly_as_a_direct_reply(protocol: WireProtocol, body: Any) -> None:
    direct = (openai_wire if protocol is WireProtocol.OPENAI else anthropic_wire).parse_response(body)
    assert parse_reply(protocol, body) == direct
    assert direct.text == "from a batch"
