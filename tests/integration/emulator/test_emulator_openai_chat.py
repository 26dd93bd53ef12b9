"""OpenAI chat completions through the official SDK: replies, tool calls and every reply directive."""

import json
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletion

from tests.integration.emulator.emulator_helpers import (
    LOOKUP_SCHEMA,
    MESSAGE_SCHEMA,
    WEATHER_ARGUMENTS,
    WEATHER_SCHEMA,
    openai_tool,
)

MODEL = "gpt-4o-mini"
TOOLS = [openai_tool("get_weather", WEATHER_SCHEMA), openai_tool("lookup", LOOKUP_SCHEMA)]
AGENT_TOOLS = [openai_tool("lookup", LOOKUP_SCHEMA), openai_tool("send_message", MESSAGE_SCHEMA)]


async def chat(client: AsyncOpenAI, messages: list[dict[str, Any]], **params: Any) -> ChatCompletion:
    return await client.chat.completions.create(model=MODEL, messages=messages, **params)  # type: ignore[arg-type]


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def with_tool_result(
    messages: list[dict[str, Any]], reply: ChatCompletion, result: str
) -> list[dict[str, Any]]:
    """``messages`` followed by ``reply``'s tool call and a tool result for it, as an agent sends them."""
    call = reply.choices[0].message.tool_calls[0]  # type: ignore[index]
    assistant = {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]}
    return [*messages, assistant, {"role": "tool", "tool_call_id": call.id, "content": result}]


def only_call(reply: ChatCompletion) -> tuple[str, str]:
    calls = reply.choices[0].message.tool_calls
    assert calls is not None and len(calls) == 1
    assert calls[0].type == "function" and calls[0].id.startswith("call_")
    return calls[0].function.name, calls[0].function.arguments


async def test_a_plain_message_is_echoed_with_word_counted_usage(openai_client: AsyncOpenAI) -> None:
    messages = [{"role": "system", "content": "You are terse."}, user("  hello there world  ")]
    reply = await chat(openai_client, messages)
    choice = reply.choices[0]
    assert choice.message.content == "echo: hello there world"
    assert choice.message.tool_calls is None
    assert choice.finish_reason == "stop"
    assert reply.object == "chat.completion" and reply.model == MODEL and reply.id.startswith("chatcmpl-")
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (6, 4)
    assert reply.usage.total_tokens == 10


async def test_only_the_latest_user_message_is_echoed_and_text_parts_are_joined(
    openai_client: AsyncOpenAI,
) -> None:
    parts = [{"type": "text", "text": "part one"}, {"type": "text", "text": "part two"}]
    messages = [
        user("first [[reply:ignored]]"),
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": parts},
    ]
    reply = await chat(openai_client, messages)
    assert reply.choices[0].message.content == "echo: part one\npart two"


async def test_tool_usage_counts_tool_names_descriptions_and_tool_results(openai_client: AsyncOpenAI) -> None:
    tools = [openai_tool("lookup", LOOKUP_SCHEMA, description="Find a thing.")]
    first = await chat(openai_client, [user("go [[tool:lookup]]")], tools=tools)
    messages = with_tool_result([user("go [[tool:lookup]]")], first, "three word result")
    final = await chat(openai_client, messages, tools=tools)
    assert final.choices[0].message.content == "echo: go"
    assert final.usage is not None
    # words: "go [[tool:lookup]]" (2) + "three word result" (3) + tool name (1) + description (3)
    assert final.usage.prompt_tokens == 9
    assert final.usage.completion_tokens == 2


async def test_a_tool_directive_calls_the_tool_with_arguments_built_from_its_schema(
    openai_client: AsyncOpenAI,
) -> None:
    reply = await chat(openai_client, [user("weather please [[tool:get_weather]]")], tools=TOOLS)
    name, arguments = only_call(reply)
    assert name == "get_weather"
    assert json.loads(arguments) == WEATHER_ARGUMENTS
    assert reply.choices[0].finish_reason == "tool_calls"
    assert reply.choices[0].message.content is None


async def test_a_tool_directive_with_json_uses_exactly_those_arguments(openai_client: AsyncOpenAI) -> None:
    directive = '[[tool:lookup {"query": "a ]] b", "nested": {"list": [1, {"brace": "}"}]}}]]'
    reply = await chat(openai_client, [user(f"find it {directive}")], tools=TOOLS)
    name, arguments = only_call(reply)
    assert name == "lookup"
    assert json.loads(arguments) == {"query": "a ]] b", "nested": {"list": [1, {"brace": "}"}]}}


async def test_several_tool_directives_are_one_step_each_then_the_final_text(
    openai_client: AsyncOpenAI,
) -> None:
    messages = [user('plan [[tool:lookup]] then [[tool:get_weather {"city": "Oslo"}]]')]
    first = await chat(openai_client, messages, tools=TOOLS)
    assert only_call(first) == ("lookup", '{"query":"query-value"}')
    messages = with_tool_result(messages, first, "found")
    second = await chat(openai_client, messages, tools=TOOLS)
    assert only_call(second) == ("get_weather", '{"city":"Oslo"}')
    messages = with_tool_result(messages, second, "sunny")
    final = await chat(openai_client, messages, tools=TOOLS)
    assert final.choices[0].message.content == "echo: plan  then"
    assert final.choices[0].finish_reason == "stop"


async def test_a_tool_that_is_not_offered_is_still_called(openai_client: AsyncOpenAI) -> None:
    reply = await chat(openai_client, [user("[[tool:no_such_tool]]")], tools=TOOLS)
    assert only_call(reply) == ("no_such_tool", "{}")


@pytest.mark.parametrize(
    ("tools", "tool_choice", "expected"),
    [
        (AGENT_TOOLS, "required", ("send_message", {"message": "echo: say hi"})),
        (TOOLS, "required", ("get_weather", WEATHER_ARGUMENTS)),
        (TOOLS, {"type": "function", "function": {"name": "lookup"}}, ("lookup", {"query": "query-value"})),
        (
            AGENT_TOOLS,
            {"type": "function", "function": {"name": "send_message"}},
            ("send_message", {"message": "echo: say hi"}),
        ),
    ],
    ids=["required-send_message", "required-first-tool", "named-tool", "named-send_message"],
)
async def test_forced_tool_choice_always_yields_a_tool_call(
    openai_client: AsyncOpenAI,
    tools: list[dict[str, Any]],
    tool_choice: Any,
    expected: tuple[str, dict[str, Any]],
) -> None:
    reply = await chat(openai_client, [user("say hi")], tools=tools, tool_choice=tool_choice)
    name, arguments = only_call(reply)
    assert (name, json.loads(arguments)) == expected
    assert reply.choices[0].finish_reason == "tool_calls"


async def test_forced_tool_choice_ends_a_scripted_turn_with_send_message(openai_client: AsyncOpenAI) -> None:
    messages = [user("look it up [[tool:lookup]] [[reply:all done]]")]
    first = await chat(openai_client, messages, tools=AGENT_TOOLS, tool_choice="required")
    assert only_call(first)[0] == "lookup"
    final = await chat(
        openai_client, with_tool_result(messages, first, "ok"), tools=AGENT_TOOLS, tool_choice="required"
    )
    name, arguments = only_call(final)
    assert (name, json.loads(arguments)) == ("send_message", {"message": "all done"})


async def test_auto_or_none_tool_choice_without_directives_replies_with_text(
    openai_client: AsyncOpenAI,
) -> None:
    for tool_choice in ("auto", "none"):
        reply = await chat(openai_client, [user("just talk")], tools=AGENT_TOOLS, tool_choice=tool_choice)
        assert reply.choices[0].message.content == "echo: just talk"
        assert reply.choices[0].message.tool_calls is None


async def test_required_tool_choice_without_tools_is_a_bad_request(openai_client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await chat(openai_client, [user("hi")], tool_choice="required")
    assert caught.value.param == "tool_choice"


async def test_empty_gives_neither_text_nor_tool_calls(openai_client: AsyncOpenAI) -> None:
    reply = await chat(openai_client, [user("nothing [[empty]]")], tools=AGENT_TOOLS, tool_choice="required")
    message = reply.choices[0].message
    assert message.content is None and message.tool_calls is None
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None and reply.usage.completion_tokens == 0


async def test_truncate_cuts_the_text_and_reports_length(openai_client: AsyncOpenAI) -> None:
    reply = await chat(openai_client, [user("a rather long sentence to cut [[truncate]]")])
    content = reply.choices[0].message.content
    assert content is not None and "echo: a rather long sentence to cut".startswith(content)
    assert len(content) < len("echo: a rather long sentence to cut")
    assert reply.choices[0].finish_reason == "length"


async def test_truncate_on_a_forced_tool_call_leaves_its_arguments_unparseable(
    openai_client: AsyncOpenAI,
) -> None:
    reply = await chat(openai_client, [user("cut [[truncate]]")], tools=AGENT_TOOLS, tool_choice="required")
    name, arguments = only_call(reply)
    assert name == "send_message"
    with pytest.raises(json.JSONDecodeError):
        json.loads(arguments)
    assert reply.choices[0].finish_reason == "length"


async def test_a_small_max_tokens_cuts_the_text_to_that_many_words(openai_client: AsyncOpenAI) -> None:
    reply = await chat(openai_client, [user("one two three four five")], max_completion_tokens=3)
    assert reply.choices[0].message.content == "echo: one two"
    assert reply.choices[0].finish_reason == "length"


async def test_reply_replaces_the_echo(openai_client: AsyncOpenAI) -> None:
    reply = await chat(openai_client, [user("ignored [[reply: The answer: 42 ]]")])
    assert reply.choices[0].message.content == "The answer: 42"


async def test_bad_tool_args_sends_unparseable_arguments_then_resumes_the_script(
    openai_client: AsyncOpenAI,
) -> None:
    messages = [user('[[bad-tool-args]] [[tool:lookup {"query": "x"}]]')]
    broken = await chat(openai_client, messages, tools=TOOLS)
    name, arguments = only_call(broken)
    assert name == "lookup"
    with pytest.raises(json.JSONDecodeError):
        json.loads(arguments)
    messages = with_tool_result(messages, broken, "error: your arguments were not JSON")
    retried = await chat(openai_client, messages, tools=TOOLS)
    assert only_call(retried) == ("lookup", '{"query":"x"}')


async def test_bad_tool_args_without_a_tool_directive_names_the_first_offered_tool(
    openai_client: AsyncOpenAI,
) -> None:
    reply = await chat(openai_client, [user("[[bad-tool-args]]")], tools=TOOLS)
    assert only_call(reply) == ("get_weather", '{"broken": ')


async def test_streaming_is_refused_in_openai_error_shape(openai_client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.chat.completions.create(model=MODEL, messages=[user("hi")], stream=True)  # type: ignore[list-item]
    assert caught.value.param == "stream"
    assert caught.value.type == "invalid_request_error"


async def test_a_body_without_messages_is_a_bad_request(openai_client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.chat.completions.create(model=MODEL, messages=[])
    assert caught.value.param == "messages"


async def test_identical_requests_get_identical_replies(openai_client: AsyncOpenAI) -> None:
    messages = [user("same question [[tool:lookup]]")]
    first, second = [(await chat(openai_client, messages, tools=TOOLS)).model_dump() for _ in range(2)]
    other = (await chat(openai_client, [user("other question [[tool:lookup]]")], tools=TOOLS)).model_dump()
    first.pop("created"), second.pop("created")
    assert first == second
    assert other["id"] != first["id"]
    assert (
        other["choices"][0]["message"]["tool_calls"][0]["id"]
        != first["choices"][0]["message"]["tool_calls"][0]["id"]
    )


async def test_models_are_listed(openai_client: AsyncOpenAI) -> None:
    models = [model.id async for model in openai_client.models.list()]
    assert "gpt-4o-mini" in models
