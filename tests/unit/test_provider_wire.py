"""Neutral requests ⇄ each provider's JSON, without the network: the exact bodies the adapters send."""

from typing import Any

import pytest

from agentbatch.domain.messages import ContentPart, Message, Role, ToolCall
from agentbatch.providers import anthropic_wire, openai_wire
from agentbatch.providers.base import ModelRequest, ToolChoice
from agentbatch.providers.errors import InvalidResponse
from tests.integration.providers.provider_wire_rules import (
    CREATED,
    LOOKUP,
    anthropic_violations,
    assistant,
    openai_violations,
    tool,
    user,
)

IMAGE_URL: ContentPart = {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}}
IMAGE_BASE64: ContentPart = {
    "type": "image",
    "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
}
CALL_1 = ToolCall("call_1", "lookup", '{"query":"weather","limit":1}')
CALL_2 = ToolCall("toolu_01abc", "lookup", '{"query":"rain","limit":2}')
HISTORY = [
    user("What is the weather?"),
    assistant(CALL_1, CALL_2, text="Checking."),
    tool(CALL_1, "sunny"),
    tool(CALL_2, "lookup failed", status="error"),
    user("And this?", IMAGE_URL),
    assistant(text="A cat."),
    user("Thanks"),
]
LOOKUP_FUNCTION = {
    "type": "function",
    "function": {"name": "lookup", "description": LOOKUP.description, "parameters": LOOKUP.parameters},
}
LOOKUP_TOOL = {"name": "lookup", "description": LOOKUP.description, "input_schema": LOOKUP.parameters}


def request(
    messages: list[Message] | None = None,
    *,
    tools: bool = True,
    tool_choice: ToolChoice = "auto",
    parallel: bool = False,
    max_tokens: int | None = None,
    temperature: float | None = None,
) -> ModelRequest:
    return ModelRequest(
        model="some-model",
        system="Be brief.",
        messages=HISTORY if messages is None else messages,
        tools=(LOOKUP,) if tools else (),
        tool_choice=tool_choice,
        max_tokens=max_tokens,
        temperature=temperature,
        parallel_tool_calls=parallel,
    )


def message(role: Role, text: str = "", calls: tuple[ToolCall, ...] = (), **extra: Any) -> Message:
    content = [{"type": "text", "text": text}] if text else []
    return Message("m", "a", role, CREATED, content=content, tool_calls=list(calls), **extra)


def test_openai_body_for_a_history_with_tool_calls_results_and_an_image() -> None:
    body = openai_wire.request_body(request(tool_choice="required", max_tokens=300, temperature=0.5))

    assert body == {
        "model": "some-model",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is the weather?"},
            {
                "role": "assistant",
                "content": "Checking.",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": CALL_1.arguments},
                    },
                    {
                        "id": "toolu_01abc",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": CALL_2.arguments},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
            {"role": "tool", "tool_call_id": "toolu_01abc", "content": "lookup failed"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "And this?"},
                    {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
                ],
            },
            {"role": "assistant", "content": "A cat."},
            {"role": "user", "content": "Thanks"},
        ],
        "tools": [LOOKUP_FUNCTION],
        "tool_choice": "required",
        "parallel_tool_calls": False,
        "max_completion_tokens": 300,
        "temperature": 0.5,
    }
    assert openai_violations(body) == []


def test_anthropic_body_merges_tool_results_and_the_next_user_message_into_one_turn() -> None:
    body = anthropic_wire.request_body(request(tool_choice="required", temperature=0.5))

    assert body == {
        "model": "some-model",
        "max_tokens": anthropic_wire.DEFAULT_MAX_TOKENS,
        "system": "Be brief.",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "What is the weather?"}]},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Checking."},
                    {
                        "type": "tool_use",
                        "id": "call_1",
                        "name": "lookup",
                        "input": {"query": "weather", "limit": 1},
                    },
                    {
                        "type": "tool_use",
                        "id": "toolu_01abc",
                        "name": "lookup",
                        "input": {"query": "rain", "limit": 2},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "call_1", "content": "sunny", "is_error": False},
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_01abc",
                        "content": "lookup failed",
                        "is_error": True,
                    },
                    {"type": "text", "text": "And this?"},
                    {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}},
                ],
            },
            {"role": "assistant", "content": [{"type": "text", "text": "A cat."}]},
            {"role": "user", "content": [{"type": "text", "text": "Thanks"}]},
        ],
        "tools": [LOOKUP_TOOL],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
        "temperature": 0.5,
    }
    assert anthropic_wire.DEFAULT_MAX_TOKENS == 4096
    assert anthropic_violations(body) == []


@pytest.mark.parametrize(
    ("choice", "parallel", "openai_fields", "anthropic_choice"),
    [
        ("auto", False, ("auto", False), {"type": "auto", "disable_parallel_tool_use": True}),
        ("auto", True, ("auto", True), {"type": "auto", "disable_parallel_tool_use": False}),
        ("required", False, ("required", False), {"type": "any", "disable_parallel_tool_use": True}),
        ("required", True, ("required", True), {"type": "any", "disable_parallel_tool_use": False}),
        ("none", False, ("none", False), {"type": "none"}),
    ],
)
def test_tool_choice_and_parallel_calls_map_to_each_protocol(
    choice: ToolChoice, parallel: bool, openai_fields: tuple[str, bool], anthropic_choice: dict[str, Any]
) -> None:
    openai_body = openai_wire.request_body(request(tool_choice=choice, parallel=parallel))
    anthropic_body = anthropic_wire.request_body(request(tool_choice=choice, parallel=parallel))

    assert (openai_body["tool_choice"], openai_body["parallel_tool_calls"]) == openai_fields
    assert anthropic_body["tool_choice"] == anthropic_choice


def test_without_tools_no_tool_fields_are_sent() -> None:
    openai_body = openai_wire.request_body(request(tools=False, tool_choice="required"))
    anthropic_body = anthropic_wire.request_body(request(tools=False, tool_choice="required"))

    assert not {"tools", "tool_choice", "parallel_tool_calls", "max_completion_tokens", "temperature"} & set(
        openai_body
    )
    assert not {"tools", "tool_choice", "temperature"} & set(anthropic_body)


def test_max_tokens_goes_to_each_protocols_field() -> None:
    assert openai_wire.request_body(request(max_tokens=64))["max_completion_tokens"] == 64
    assert anthropic_wire.request_body(request(max_tokens=64))["max_tokens"] == 64
    assert anthropic_wire.request_body(request())["max_tokens"] == 4096


def test_a_base64_image_is_a_data_url_for_openai_and_a_base64_source_for_anthropic() -> None:
    history = [user("look", IMAGE_BASE64)]

    [_, openai_user] = openai_wire.request_body(request(history))["messages"]
    [anthropic_user] = anthropic_wire.request_body(request(history))["messages"]

    assert openai_user["content"][1] == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="},
    }
    assert anthropic_user["content"][1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
    }


def test_an_approval_request_is_the_assistants_tool_call_and_the_approval_itself_is_not_sent() -> None:
    history = [
        user("delete it"),
        message(Role.APPROVAL, calls=(CALL_1,)),
        message(Role.APPROVAL, approve=True, approval_request_id="m"),
        tool(CALL_1, "deleted"),
    ]

    openai_messages = openai_wire.request_body(request(history))["messages"]
    anthropic_messages = anthropic_wire.request_body(request(history))["messages"]

    assert [m["role"] for m in openai_messages] == ["system", "user", "assistant", "tool"]
    assert openai_messages[2]["tool_calls"][0]["id"] == "call_1"
    assert [m["role"] for m in anthropic_messages] == ["user", "assistant", "user"]
    assert anthropic_messages[1]["content"][0]["id"] == "call_1"
    assert anthropic_messages[2]["content"][0]["tool_use_id"] == "call_1"


def test_a_system_message_in_the_history_keeps_its_place() -> None:
    history = [user("hi"), assistant(text="hello"), message(Role.SYSTEM, "Memory updated."), user("go on")]

    openai_messages = openai_wire.request_body(request(history))["messages"]
    anthropic_messages = anthropic_wire.request_body(request(history))["messages"]

    assert openai_messages[3] == {"role": "system", "content": "Memory updated."}
    assert anthropic_messages[2] == {
        "role": "user",
        "content": [{"type": "text", "text": "Memory updated."}, {"type": "text", "text": "go on"}],
    }


def test_an_earlier_empty_reply_does_not_make_the_openai_history_invalid() -> None:
    history = [user("say nothing"), assistant(), user("now say something")]

    assert anthropic_violations(anthropic_wire.request_body(request(history))) == []
    assert openai_violations(openai_wire.request_body(request(history))) == []


def test_openai_response_with_a_tool_call_becomes_neutral() -> None:
    response = openai_wire.parse_response(
        {
            "model": "gpt-x",
            "choices": [
                {
                    "message": {
                        "content": None,
                        "tool_calls": [
                            {"id": "call_9", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                        ],
                    },
                    "finish_reason": "tool_calls",
                }
            ],
            "usage": {"prompt_tokens": 7, "completion_tokens": 1},
        }
    )

    assert (response.text, response.finish, response.prompt_tokens, response.completion_tokens) == (
        "",
        "tool_calls",
        7,
        1,
    )
    assert response.tool_calls == [ToolCall("call_9", "f", "{}")]


def test_anthropic_response_unwraps_invalid_json_and_keeps_thinking_as_reasoning() -> None:
    response = anthropic_wire.parse_response(
        {
            "model": "claude-x",
            "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                {"type": "text", "text": "Calling."},
                {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"INVALID_JSON": '{"broken": '}},
                {"type": "tool_use", "id": "toolu_2", "name": "g", "input": {"a": 1}},
            ],
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 9, "output_tokens": 3},
        }
    )

    assert (response.text, response.finish, response.prompt_tokens, response.completion_tokens) == (
        "Calling.",
        "tool_calls",
        9,
        3,
    )
    assert response.tool_calls == [
        ToolCall("toolu_1", "f", '{"broken": '),
        ToolCall("toolu_2", "g", '{"a":1}'),
    ]
    assert response.reasoning == [
        {"type": "reasoning", "reasoning": "hmm", "is_native": True, "signature": "sig"}
    ]


@pytest.mark.parametrize(
    ("parse", "body"),
    [
        (openai_wire.parse_response, {"choices": []}),
        (openai_wire.parse_response, {"object": "list", "data": []}),
        (anthropic_wire.parse_response, {"type": "error"}),
        (anthropic_wire.parse_response, {"content": None}),
    ],
)
def test_a_body_with_no_usable_reply_is_an_invalid_response(parse: Any, body: dict[str, Any]) -> None:
    with pytest.raises(InvalidResponse):
        parse(body)


def test_anthropic_replays_invalid_tool_arguments_in_the_wrapper_they_came_in() -> None:
    wrapped = {"INVALID_JSON": '{"broken": '}
    reply = anthropic_wire.parse_response(
        {
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "f", "input": wrapped}],
            "stop_reason": "tool_use",
        }
    )

    body = anthropic_wire.request_body(request([user("go"), assistant(*reply.tool_calls)], tools=False))

    assert body["messages"][1]["content"] == [
        {"type": "tool_use", "id": "toolu_1", "name": "f", "input": wrapped}
    ]


def test_cached_prompt_tokens_are_read_from_each_protocols_usage() -> None:
    openai = openai_wire.parse_response(
        {
            "model": "gpt-x",
            "choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": 100,
                "completion_tokens": 1,
                "prompt_tokens_details": {"cached_tokens": 64},
            },
        }
    )
    anthropic = anthropic_wire.parse_response(
        {
            "model": "claude-x",
            "content": [{"type": "text", "text": "hi"}],
            "stop_reason": "end_turn",
            "usage": {
                "input_tokens": 10,
                "output_tokens": 1,
                "cache_read_input_tokens": 64,
                "cache_creation_input_tokens": 26,
            },
        }
    )

    assert (openai.prompt_tokens, openai.cached_tokens, openai.cache_write_tokens) == (100, 64, 0)
    # Anthropic's input_tokens leave the cached part out: the whole prompt is the sum.
    assert (anthropic.prompt_tokens, anthropic.cached_tokens, anthropic.cache_write_tokens) == (100, 64, 26)
