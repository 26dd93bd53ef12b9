"""Anthropic messages through the official SDK: replies, tool use and every reply directive."""

from typing import Any, cast

import anthropic
import pytest
from anthropic import AsyncAnthropic
from anthropic.types import Message, TextBlock, ToolUseBlock

from tests.integration.emulator.emulator_helpers import (
    LOOKUP_SCHEMA,
    MESSAGE_SCHEMA,
    WEATHER_ARGUMENTS,
    WEATHER_SCHEMA,
    anthropic_tool,
)

MODEL = "claude-haiku-4-5"
TOOLS = [anthropic_tool("get_weather", WEATHER_SCHEMA), anthropic_tool("lookup", LOOKUP_SCHEMA)]
AGENT_TOOLS = [anthropic_tool("lookup", LOOKUP_SCHEMA), anthropic_tool("send_message", MESSAGE_SCHEMA)]


async def create(client: AsyncAnthropic, messages: list[dict[str, Any]], **params: Any) -> Message:
    params.setdefault("max_tokens", 1024)
    return await client.messages.create(model=MODEL, messages=messages, **params)  # type: ignore[arg-type]


def user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


def only_tool_use(message: Message) -> ToolUseBlock:
    assert len(message.content) == 1
    block = message.content[0]
    assert isinstance(block, ToolUseBlock) and block.id.startswith("toolu_")
    assert message.stop_reason == "tool_use"
    return block


def text_of(message: Message) -> str:
    assert len(message.content) == 1 and isinstance(message.content[0], TextBlock)
    return message.content[0].text


def with_tool_result(messages: list[dict[str, Any]], reply: Message, result: str) -> list[dict[str, Any]]:
    """``messages``, then ``reply`` and a user message holding only the tool result for it."""
    block = only_tool_use(reply)
    results = [{"type": "tool_result", "tool_use_id": block.id, "content": result}]
    return [*messages, cast(dict[str, Any], reply.to_param()), user(results)]


async def test_a_plain_message_is_echoed_with_word_counted_usage(anthropic_client: AsyncAnthropic) -> None:
    system = [{"type": "text", "text": "Be very brief."}]
    message = await create(anthropic_client, [user("hello there")], system=system)
    assert text_of(message) == "echo: hello there"
    assert message.stop_reason == "end_turn" and message.role == "assistant" and message.model == MODEL
    assert message.id.startswith("msg_")
    assert (message.usage.input_tokens, message.usage.output_tokens) == (5, 3)


async def test_text_blocks_of_the_latest_user_message_are_echoed(anthropic_client: AsyncAnthropic) -> None:
    blocks = [{"type": "text", "text": "block one"}, {"type": "text", "text": "block two"}]
    messages = [user("old"), {"role": "assistant", "content": "sure"}, user(blocks)]
    message = await create(anthropic_client, messages, system="plain string system")
    assert text_of(message) == "echo: block one\nblock two"


async def test_a_tool_directive_uses_the_schema_then_tool_results_lead_to_the_final_text(
    anthropic_client: AsyncAnthropic,
) -> None:
    messages = [user('forecast [[tool:get_weather]] [[tool:lookup {"query": "tides"}]]')]
    first = await create(anthropic_client, messages, tools=TOOLS)
    block = only_tool_use(first)
    assert (block.name, block.input) == ("get_weather", WEATHER_ARGUMENTS)
    messages = with_tool_result(messages, first, "rain")
    second = await create(anthropic_client, messages, tools=TOOLS)
    block = only_tool_use(second)
    assert (block.name, block.input) == ("lookup", {"query": "tides"})
    messages = with_tool_result(messages, second, "high at noon")
    final = await create(anthropic_client, messages, tools=TOOLS)
    assert text_of(final) == "echo: forecast"
    assert final.stop_reason == "end_turn"
    # whitespace-separated words: the raw user text (5, directives included) + "rain" (1)
    # + "high at noon" (3) + two tool names and two "A tool." descriptions (6)
    assert final.usage.input_tokens == 15


async def test_a_tool_that_is_not_offered_is_still_called(anthropic_client: AsyncAnthropic) -> None:
    block = only_tool_use(await create(anthropic_client, [user("[[tool:mystery]]")], tools=TOOLS))
    assert (block.name, block.input) == ("mystery", {})


@pytest.mark.parametrize(
    ("tools", "tool_choice", "expected"),
    [
        (AGENT_TOOLS, {"type": "any"}, ("send_message", {"message": "echo: greet"})),
        (TOOLS, {"type": "any"}, ("get_weather", WEATHER_ARGUMENTS)),
        (TOOLS, {"type": "tool", "name": "lookup"}, ("lookup", {"query": "query-value"})),
    ],
    ids=["any-send_message", "any-first-tool", "named-tool"],
)
async def test_forced_tool_choice_always_yields_a_tool_use(
    anthropic_client: AsyncAnthropic, tools: list[dict[str, Any]], tool_choice: Any, expected: tuple[str, Any]
) -> None:
    block = only_tool_use(
        await create(anthropic_client, [user("greet")], tools=tools, tool_choice=tool_choice)
    )
    assert (block.name, block.input) == expected


async def test_none_tool_choice_without_directives_replies_with_text(
    anthropic_client: AsyncAnthropic,
) -> None:
    message = await create(anthropic_client, [user("talk")], tools=AGENT_TOOLS, tool_choice={"type": "none"})
    assert text_of(message) == "echo: talk"


async def test_empty_gives_an_empty_content_list(anthropic_client: AsyncAnthropic) -> None:
    message = await create(
        anthropic_client, [user("[[empty]]")], tools=AGENT_TOOLS, tool_choice={"type": "any"}
    )
    assert message.content == []
    assert message.stop_reason == "end_turn"


async def test_truncate_stops_at_max_tokens(anthropic_client: AsyncAnthropic) -> None:
    message = await create(anthropic_client, [user("please write a long essay [[truncate]]")])
    text = text_of(message)
    assert "echo: please write a long essay".startswith(text) and len(text) < len(
        "echo: please write a long essay"
    )
    assert message.stop_reason == "max_tokens"


async def test_a_small_max_tokens_cuts_the_text(anthropic_client: AsyncAnthropic) -> None:
    message = await create(anthropic_client, [user("one two three")], max_tokens=2)
    assert text_of(message) == "echo: one"
    assert message.stop_reason == "max_tokens"


async def test_reply_replaces_the_echo_even_inside_send_message(anthropic_client: AsyncAnthropic) -> None:
    message = await create(
        anthropic_client, [user("x [[reply:Bonjour]]")], tools=AGENT_TOOLS, tool_choice={"type": "any"}
    )
    block = only_tool_use(message)
    assert (block.name, block.input) == ("send_message", {"message": "Bonjour"})


async def test_bad_tool_args_wraps_the_unparseable_json_in_an_object(
    anthropic_client: AsyncAnthropic,
) -> None:
    block = only_tool_use(
        await create(anthropic_client, [user("[[bad-tool-args]] [[tool:lookup]]")], tools=TOOLS)
    )
    assert block.name == "lookup"
    assert block.input == {"INVALID_JSON": '{"broken": '}


async def test_a_user_message_of_only_tool_results_is_not_the_directive_source(
    anthropic_client: AsyncAnthropic,
) -> None:
    first = await create(anthropic_client, [user("[[tool:lookup]] [[reply:finished]]")], tools=TOOLS)
    messages = with_tool_result([user("[[tool:lookup]] [[reply:finished]]")], first, "[[tool:get_weather]]")
    final = await create(anthropic_client, messages, tools=TOOLS)
    assert text_of(final) == "finished"


async def test_streaming_is_refused_in_anthropic_error_shape(anthropic_client: AsyncAnthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        await anthropic_client.messages.create(model=MODEL, max_tokens=10, messages=[user("hi")], stream=True)  # type: ignore[list-item]
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["error"]["type"] == "invalid_request_error"
    assert caught.value.request_id is not None


async def test_identical_requests_get_identical_messages(anthropic_client: AsyncAnthropic) -> None:
    messages = [user("same [[tool:lookup]]")]
    first, second = [(await create(anthropic_client, messages, tools=TOOLS)).model_dump() for _ in range(2)]
    other = (await create(anthropic_client, [user("different [[tool:lookup]]")], tools=TOOLS)).model_dump()
    assert first == second
    assert other["id"] != first["id"] and other["content"][0]["id"] != first["content"][0]["id"]


async def test_tokens_are_counted_like_usage(anthropic_client: AsyncAnthropic) -> None:
    counted = await anthropic_client.messages.count_tokens(
        model=MODEL,
        system="two words",
        messages=[user("three more words")],  # type: ignore[list-item]
    )
    assert counted.input_tokens == 5


async def test_models_are_listed_in_anthropic_shape(anthropic_client: AsyncAnthropic) -> None:
    page = await anthropic_client.models.list()
    assert page.has_more is False
    assert "claude-haiku-4-5" in [model.id for model in page.data]
