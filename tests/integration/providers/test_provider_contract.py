"""The same behaviour from both provider adapters, driven through the emulator with neutral histories.

Every test runs once per protocol (``WireChat.in_process`` over ``/v1/chat/completions`` and over
``/v1/messages``) and reads only the neutral ``ModelResponse``. Histories that carry tool calls are
also checked against the structural rules of the real APIs (which the emulator does not enforce).
"""

import json
from collections.abc import Sequence
from typing import Any

import pytest

from agentbatch.domain.messages import ContentPart, Message, ToolCall
from agentbatch.providers.base import ModelRequest, ModelResponse, ToolChoice, ToolSpec
from tests.integration.providers.provider_harness import Subject
from tests.integration.providers.provider_wire_rules import (
    LOOKUP,
    NOTE,
    SEND_MESSAGE,
    assistant,
    tool,
    user,
)

MODEL = "test-model"
SYSTEM = "You are a terse assistant."
LOOKUP_ARGUMENTS = {"query": "query-value", "limit": 1}
IMAGE_URL: ContentPart = {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}}
IMAGE_BASE64: ContentPart = {
    "type": "image",
    "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
}


def request(
    history: Sequence[Message] | str,
    tools: Sequence[ToolSpec] = (),
    *,
    system: str = SYSTEM,
    tool_choice: ToolChoice = "auto",
    max_tokens: int | None = None,
) -> ModelRequest:
    messages = [user(history)] if isinstance(history, str) else list(history)
    return ModelRequest(
        model=MODEL,
        system=system,
        messages=messages,
        tools=tuple(tools),
        tool_choice=tool_choice,
        max_tokens=max_tokens,
    )


async def complete(subject: Subject, model_request: ModelRequest) -> ModelResponse:
    """The adapter's answer, after checking the body it sends would pass the real API's rules."""
    assert subject.violations(model_request) == []
    return await subject.adapter.complete(model_request)


def arguments(call: ToolCall) -> Any:
    return json.loads(call.arguments)


def words(*texts: str) -> int:
    """Prompt tokens as the emulator counts them: whitespace-separated words."""
    return sum(len(text.split()) for text in texts)


def tool_words(*tools: ToolSpec) -> int:
    return sum(1 + words(spec.description) for spec in tools)


async def test_a_plain_reply_echoes_the_user_and_counts_tokens(subject: Subject) -> None:
    reply = await complete(subject, request("hello there"))

    assert (reply.text, reply.tool_calls, reply.finish, reply.model) == (
        "echo: hello there",
        [],
        "stop",
        MODEL,
    )
    assert reply.prompt_tokens == words(SYSTEM, "hello there") > 0
    assert reply.completion_tokens == words("echo: hello there") > 0


async def test_the_same_request_gets_the_same_response(subject: Subject) -> None:
    plain = request("same again")
    called = request("same again [[tool:lookup]]", [LOOKUP])

    assert await complete(subject, plain) == await complete(subject, plain)
    first, second = await complete(subject, called), await complete(subject, called)
    assert first == second
    assert first.tool_calls[0].id  # the ids are part of what repeats


async def test_the_system_prompt_reaches_the_model(subject: Subject) -> None:
    short = await complete(subject, request("hi", system="Be brief."))
    long = await complete(subject, request("hi", system="Be brief, kind and exact."))

    assert long.prompt_tokens - short.prompt_tokens == words("kind and exact.")
    assert short.text == long.text == "echo: hi"


async def test_a_tool_call_gets_arguments_built_from_the_schema(subject: Subject) -> None:
    reply = await complete(subject, request("look it up [[tool:lookup]]", [LOOKUP, NOTE]))

    assert (reply.text, reply.finish) == ("", "tool_calls")
    assert [call.name for call in reply.tool_calls] == ["lookup"]
    assert arguments(reply.tool_calls[0]) == LOOKUP_ARGUMENTS
    assert reply.tool_calls[0].id


async def test_a_tool_call_with_explicit_arguments_keeps_them(subject: Subject) -> None:
    directive = '[[tool:note {"text": "a ]] b", "nested": {"a": 1, "list": [1, 2.5, null, true]}}]]'
    reply = await complete(subject, request(f"write it {directive}", [NOTE]))

    assert reply.finish == "tool_calls"
    assert [call.name for call in reply.tool_calls] == ["note"]
    assert arguments(reply.tool_calls[0]) == {
        "text": "a ]] b",
        "nested": {"a": 1, "list": [1, 2.5, None, True]},
    }


async def test_a_multi_step_turn_feeds_tool_calls_and_results_back(subject: Subject) -> None:
    tools = [LOOKUP, NOTE]
    history = [user('find the answer [[tool:lookup]] [[tool:note {"text": "seen"}]]')]

    first = await complete(subject, request(history, tools))
    assert [(call.name, arguments(call)) for call in first.tool_calls] == [("lookup", LOOKUP_ARGUMENTS)]

    history += [assistant(*first.tool_calls), tool(first.tool_calls[0], "forty two")]
    second = await complete(subject, request(history, tools))
    assert [(call.name, arguments(call)) for call in second.tool_calls] == [("note", {"text": "seen"})]

    history += [assistant(*second.tool_calls), tool(second.tool_calls[0], "disk full", status="error")]
    final = await complete(subject, request(history, tools))
    assert (final.text, final.tool_calls, final.finish) == ("echo: find the answer", [], "stop")
    prompt = ['find the answer [[tool:lookup]] [[tool:note {"text": "seen"}]]', "forty two", "disk full"]
    assert final.prompt_tokens == words(SYSTEM, *prompt) + tool_words(*tools)


async def test_two_tool_results_in_a_row_answer_two_parallel_calls(subject: Subject) -> None:
    calls = (
        ToolCall("call_first", "lookup", '{"query": "a", "limit": 1}'),
        ToolCall("call_second", "lookup", '{"query": "b", "limit": 2}'),
    )
    history = [
        user("compare both [[tool:lookup]]"),
        assistant(*calls, text="Looking both up."),
        tool(calls[0], "result A"),
        tool(calls[1], "result B"),
    ]

    reply = await complete(subject, request(history, [LOOKUP]))

    assert (reply.text, reply.finish) == ("echo: compare both", "stop")
    texts = ("compare both [[tool:lookup]]", "Looking both up.", "result A", "result B")
    assert reply.prompt_tokens == words(SYSTEM, *texts) + tool_words(LOOKUP)


async def test_a_user_message_after_a_tool_result_starts_a_new_turn(subject: Subject) -> None:
    tools = [LOOKUP, NOTE]
    call = ToolCall("call_earlier", "lookup", '{"query": "q", "limit": 1}')
    history = [
        user("first question [[tool:lookup]]"),
        assistant(call),
        tool(call, "an answer"),
        user("second question [[tool:note]]"),
    ]

    first = await complete(subject, request(history, tools))
    assert [(c.name, arguments(c)) for c in first.tool_calls] == [("note", {"text": "text-value"})]

    history += [assistant(*first.tool_calls), tool(first.tool_calls[0], "noted")]
    final = await complete(subject, request(history, tools))
    assert (final.text, final.finish) == ("echo: second question", "stop")


async def test_forced_tool_use_picks_send_message_when_offered(subject: Subject) -> None:
    reply = await complete(subject, request("hi there", [LOOKUP, SEND_MESSAGE], tool_choice="required"))

    assert (reply.text, reply.finish) == ("", "tool_calls")
    assert [(c.name, arguments(c)) for c in reply.tool_calls] == [
        ("send_message", {"message": "echo: hi there"})
    ]


async def test_forced_tool_use_without_send_message_calls_the_first_tool(subject: Subject) -> None:
    reply = await complete(subject, request("hi there", [LOOKUP, NOTE], tool_choice="required"))

    assert [(c.name, arguments(c)) for c in reply.tool_calls] == [("lookup", LOOKUP_ARGUMENTS)]


async def test_tool_choice_auto_and_none_let_the_model_answer_in_text(subject: Subject) -> None:
    for choice in ("auto", "none"):
        reply = await complete(subject, request("hi there", [SEND_MESSAGE], tool_choice=choice))
        assert (reply.text, reply.tool_calls, reply.finish) == ("echo: hi there", [], "stop")


async def test_bad_tool_arguments_arrive_as_the_raw_invalid_text(subject: Subject) -> None:
    tools = [LOOKUP, NOTE]
    history = [user("please [[bad-tool-args]]")]

    reply = await complete(subject, request(history, tools))

    assert reply.finish == "tool_calls"
    [call] = reply.tool_calls
    assert (call.name, call.arguments) == ("lookup", '{"broken": ')
    with pytest.raises(json.JSONDecodeError):
        json.loads(call.arguments)

    history += [assistant(call), tool(call, "Invalid JSON in the arguments.", status="error")]
    final = await complete(subject, request(history, tools))
    assert (final.text, final.finish) == ("echo: please", "stop")


async def test_an_empty_reply_has_no_text_and_no_tool_calls(subject: Subject) -> None:
    reply = await complete(subject, request("say nothing [[empty]]", [SEND_MESSAGE]))

    assert (reply.text, reply.tool_calls, reply.finish, reply.completion_tokens) == ("", [], "stop", 0)


async def test_a_truncated_reply_finishes_with_length(subject: Subject) -> None:
    full = "echo: one two three four five six"
    reply = await complete(subject, request("one two three four five six [[truncate]]"))

    assert reply.finish == "length"
    assert reply.text and len(reply.text) < len(full) and full.startswith(reply.text)


async def test_max_tokens_caps_the_reply(subject: Subject) -> None:
    reply = await complete(subject, request("alpha beta gamma delta", max_tokens=2))

    assert (reply.text, reply.finish) == ("echo: alpha", "length")


@pytest.mark.parametrize("image", [IMAGE_URL, IMAGE_BASE64], ids=["url", "base64"])
async def test_a_user_message_with_an_image_is_accepted(subject: Subject, image: ContentPart) -> None:
    reply = await complete(subject, request([user("what is in the picture?", image)]))

    assert (reply.text, reply.finish) == ("echo: what is in the picture?", "stop")
    assert reply.prompt_tokens == words(SYSTEM, "what is in the picture?")
