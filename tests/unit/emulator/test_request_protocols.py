"""How the emulator reads a model request of each protocol (what is refused, where the turn stands, the
tool choice) and how its replies read back through agentbatch's own parsers, cached tokens included."""

from typing import Any

import pytest

from agentbatch.domain.messages import ToolCall
from agentbatch.emulator.anthropic_protocol import AnthropicMessagesProtocol
from agentbatch.emulator.ids import IdMaker, body_key
from agentbatch.emulator.openai_protocol import OpenAIChatProtocol
from agentbatch.emulator.protocol import InvalidRequest
from agentbatch.emulator.scripting import decide
from agentbatch.providers import anthropic_wire, openai_wire
from agentbatch.providers.base import ModelRequest, ModelResponse
from tests.integration.providers.provider_wire_rules import LOOKUP, assistant, tool, user

OPENAI = OpenAIChatProtocol()
ANTHROPIC = AnthropicMessagesProtocol()
FUNCTION = {"type": "function", "function": {"name": "lookup", "parameters": LOOKUP.parameters}}


def openai_body(**fields: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], **fields}


def anthropic_body(**fields: Any) -> dict[str, Any]:
    return {
        "model": "claude-haiku-4-5",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "hi"}],
        **fields,
    }


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": [{"role": "user", "content": "hi"}]}, "model"),
        (openai_body(messages=[]), "messages"),
        (openai_body(messages="hi"), "messages"),
        (openai_body(stream=True), "stream"),
        (openai_body(max_completion_tokens=0), "max_completion_tokens"),
        (openai_body(max_tokens=True), "max_tokens"),
        (openai_body(tools={"lookup": {}}), "tools"),
        (openai_body(tools=[{"type": "function", "function": {}}]), "tools"),
        (openai_body(tool_choice="required"), "tool_choice"),  # required, but no tools offered
        (openai_body(tools=[FUNCTION], tool_choice="sometimes"), "tool_choice"),
        (openai_body(messages=["hi"]), "messages"),
    ],
)
def test_an_openai_request_breaking_the_api_contract_is_refused_naming_the_parameter(
    body: dict[str, Any], param: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        OPENAI.parse(body)
    assert caught.value.param == param


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (anthropic_body(model=""), "model"),
        ({"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "hi"}]}, "max_tokens"),
        (anthropic_body(messages=[]), "messages"),
        (anthropic_body(messages=[3]), "messages"),
        (anthropic_body(stream=True), "stream"),
        (anthropic_body(tools=[{"description": "nameless"}]), "tools"),
        (anthropic_body(tool_choice={"type": "any"}), "tool_choice"),
        (anthropic_body(tools=[{"name": "lookup"}], tool_choice={"type": "tool"}), "tool_choice"),
        (anthropic_body(tools=[{"name": "lookup"}], tool_choice={"type": "required"}), "tool_choice"),
    ],
)
def test_an_anthropic_request_breaking_the_api_contract_is_refused_naming_the_parameter(
    body: dict[str, Any], param: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        ANTHROPIC.parse(body)
    assert caught.value.param == param


@pytest.mark.parametrize(
    ("choice", "mode", "forced"),
    [
        (None, "auto", None),
        ("auto", "auto", None),
        ("none", "none", None),
        ("required", "required", None),
        ({"type": "function", "function": {"name": "lookup"}}, "named", "lookup"),
        ({"type": "allowed_tools", "allowed_tools": {"mode": "required", "tools": []}}, "required", None),
        ({"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": []}}, "auto", None),
    ],
)
def test_openai_tool_choices(choice: object, mode: str, forced: str | None) -> None:
    parsed = OPENAI.parse(openai_body(tools=[FUNCTION], tool_choice=choice))
    assert (parsed.tool_choice, parsed.forced_tool) == (mode, forced)


@pytest.mark.parametrize(
    ("choice", "mode", "forced"),
    [
        (None, "auto", None),
        ({"type": "auto"}, "auto", None),
        ({"type": "any"}, "required", None),
        ({"type": "none"}, "none", None),
        ({"type": "tool", "name": "lookup"}, "named", "lookup"),
    ],
)
def test_anthropic_tool_choices(choice: object, mode: str, forced: str | None) -> None:
    tools = [{"name": "lookup", "input_schema": LOOKUP.parameters}]
    parsed = ANTHROPIC.parse(anthropic_body(tools=tools, tool_choice=choice))
    assert (parsed.tool_choice, parsed.forced_tool) == (mode, forced)


def model_request(history: list[Any]) -> ModelRequest:
    return ModelRequest(model="m", system="Be brief.", messages=history, tools=(LOOKUP,), max_tokens=64)


CALL_1 = ToolCall("call_1", "lookup", '{"query": "a", "limit": 1}')
CALL_2 = ToolCall("call_2", "lookup", '{"query": "b", "limit": 1}')
HISTORIES = [
    ([user("hi")], 0, "hi"),
    ([user("first"), assistant(CALL_1), tool(CALL_1, "r1")], 1, "first"),
    (
        [user("first"), assistant(CALL_1), tool(CALL_1, "r1"), assistant(CALL_2), tool(CALL_2, "r2")],
        2,
        "first",
    ),
    # a text-only reply before the call is no step of its own (Anthropic merges the two into one turn)
    ([user("first"), assistant(text="Let me look."), assistant(CALL_1), tool(CALL_1, "r1")], 1, "first"),
    ([user("old"), assistant(CALL_1), tool(CALL_1, "r1"), assistant(text="done"), user("new")], 0, "new"),
]


@pytest.mark.parametrize(("history", "steps", "text"), HISTORIES)
def test_the_turn_stands_at_the_tool_steps_since_the_latest_user_message_for_agentbatchs_own_bodies(
    history: list[Any], steps: int, text: str
) -> None:
    for parsed in (
        OPENAI.parse(openai_wire.request_body(model_request(history))),
        ANTHROPIC.parse(anthropic_wire.request_body(model_request(history))),
    ):
        assert (parsed.steps_taken, parsed.directives.text) == (steps, text)


def test_prompt_tokens_count_the_words_of_system_messages_tools_and_tool_results() -> None:
    history = [user("one two three"), assistant(CALL_1), tool(CALL_1, "four five")]
    bare = ModelRequest(model="m", system="Be brief.", messages=history)
    for parse, body in (
        (OPENAI.parse, openai_wire.request_body(bare)),
        (ANTHROPIC.parse, anthropic_wire.request_body(bare)),
    ):
        assert parse(body).prompt_tokens == 2 + 3 + 2  # system, user, tool result
    with_tool = ModelRequest(model="m", system="Be brief.", messages=history, tools=(LOOKUP,))
    # a tool counts its name and the words of its description
    assert OPENAI.parse(openai_wire.request_body(with_tool)).prompt_tokens == 7 + 1 + 3


def replied(protocol: str, text: str) -> tuple[int, ModelResponse]:
    """Ask the emulator's protocol for a reply and read it with agentbatch's parser."""
    history = [user(text)]
    if protocol == "openai":
        turn = OPENAI.parse(openai_wire.request_body(model_request(history)))
        wire = OPENAI.render(turn, decide(turn), IdMaker(body_key(text)))
        return turn.prompt_tokens, openai_wire.parse_response(wire)
    turn = ANTHROPIC.parse(anthropic_wire.request_body(model_request(history)))
    wire = ANTHROPIC.render(turn, decide(turn), IdMaker(body_key(text)))
    return turn.prompt_tokens, anthropic_wire.parse_response(wire)


@pytest.mark.parametrize("protocol", ["openai", "anthropic"])
def test_an_emulated_reply_reads_back_as_what_the_script_decided(protocol: str) -> None:
    prompt, reply = replied(protocol, "[[tool:lookup]] find it")
    assert reply.finish == "tool_calls"
    assert [(call.name, call.arguments.replace(" ", "")) for call in reply.tool_calls] == [
        ("lookup", '{"query":"query-value","limit":1}')
    ]
    assert reply.prompt_tokens == prompt


@pytest.mark.parametrize(
    ("protocol", "directive", "cached", "written"),
    [
        ("openai", "[[cache:3]]", 3, 0),
        ("openai", "[[cache:3:2]]", 3, 0),  # OpenAI reports no cache writes
        ("anthropic", "[[cache:3:2]]", 3, 2),
        ("anthropic", "[[cache:1000:1000]]", None, 0),  # capped: all of the prompt was read
        ("openai", "[[cache:1000]]", None, 0),
    ],
)
def test_cached_prompt_tokens_stay_inside_the_prompt_in_both_protocols(
    protocol: str, directive: str, cached: int | None, written: int
) -> None:
    prompt, reply = replied(protocol, f"{directive} count me")
    assert reply.prompt_tokens == prompt
    assert reply.cached_tokens == (prompt if cached is None else cached)
    assert reply.cache_write_tokens == written
    assert reply.cached_tokens + reply.cache_write_tokens <= reply.prompt_tokens


@pytest.mark.parametrize("protocol", ["openai", "anthropic"])
def test_bad_tool_args_read_back_as_the_raw_unparseable_text(protocol: str) -> None:
    _, reply = replied(protocol, "[[bad-tool-args]]")
    [call] = reply.tool_calls
    assert call.name == "lookup" and call.arguments == '{"broken": '
