"""The scripted model's decisions, step by step, without any wire format: which tool it calls at each
step of a turn, when it answers in text, and how a reply is cut short.

The HTTP-level behaviour of the same script is in tests/integration/emulator; these pin the decision
itself, including the corners a request rarely reaches."""

import orjson
import pytest

from agentbatch.emulator.directives import Directives, parse_directives
from agentbatch.emulator.scripting import (
    BROKEN_ARGUMENTS,
    Reply,
    Stop,
    ToolChoiceMode,
    ToolSpec,
    Turn,
    decide,
)

LOOKUP = ToolSpec(
    "lookup",
    {
        "type": "object",
        "properties": {"query": {"type": "string"}, "limit": {"type": "integer"}},
        "required": ["query", "limit"],
    },
)
SEND = ToolSpec(
    "send_message", {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}
)
NOTE = ToolSpec("note", {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]})


def turn(
    text: str,
    *,
    step: int = 0,
    tools: tuple[ToolSpec, ...] = (LOOKUP, NOTE),
    choice: ToolChoiceMode = "auto",
    forced: str | None = None,
    max_tokens: int | None = None,
) -> Turn:
    return Turn(
        model="gpt-4o-mini",
        directives=parse_directives(text),
        steps_taken=step,
        tools=tools,
        tool_choice=choice,
        forced_tool=forced,
        max_tokens=max_tokens,
        prompt_tokens=10,
    )


def called(reply: Reply) -> list[tuple[str, object]]:
    return [(call.name, call.input) for call in reply.tool_calls]


def test_a_plain_message_is_echoed_and_ends_the_turn() -> None:
    reply = decide(turn("hello there"))
    assert reply == Reply("echo: hello there", (), Stop.END, 3)


def test_each_tool_directive_is_one_step_then_the_final_text() -> None:
    text = '[[tool:lookup]] [[tool:note {"text": "x"}]] done'
    steps = [decide(turn(text, step=step)) for step in range(4)]
    assert called(steps[0]) == [("lookup", {"query": "query-value", "limit": 1})]
    assert called(steps[1]) == [("note", {"text": "x"})]
    assert [reply.stop for reply in steps] == [Stop.TOOL_USE, Stop.TOOL_USE, Stop.END, Stop.END]
    assert steps[2].text == steps[3].text == "echo: done"  # past the script, the model keeps answering


def test_a_tool_calls_arguments_are_its_json_text_and_parse_back_to_its_input() -> None:
    [call] = decide(turn('[[tool:lookup {"query": "ä", "limit": 3}]]')).tool_calls
    assert orjson.loads(call.arguments) == call.input == {"query": "ä", "limit": 3}


def test_a_scripted_tool_that_is_not_offered_is_called_with_empty_arguments() -> None:
    reply = decide(turn("[[tool:unknown_tool]]", tools=()))
    assert called(reply) == [("unknown_tool", {})]


def test_bad_tool_args_come_first_then_the_script_resumes() -> None:
    text = "[[bad-tool-args]] [[tool:note]] hi"
    first, second, third = (decide(turn(text, step=step)) for step in range(3))
    assert [(call.name, call.arguments, call.input) for call in first.tool_calls] == [
        ("note", BROKEN_ARGUMENTS, None)
    ]
    assert called(second) == [("note", {"text": "text-value"})]
    assert third.text == "echo: hi"


@pytest.mark.parametrize(("tools", "name"), [((NOTE, LOOKUP), "note"), ((), "send_message")])
def test_bad_tool_args_alone_name_the_first_offered_tool_or_send_message(
    tools: tuple[ToolSpec, ...], name: str
) -> None:
    [call] = decide(turn("[[bad-tool-args]]", tools=tools)).tool_calls
    assert call.name == name and call.input is None


def test_required_tool_choice_prefers_send_message_and_puts_the_answer_in_it() -> None:
    reply = decide(turn("hi [[reply:Here you go.]]", tools=(LOOKUP, SEND), choice="required"))
    assert called(reply) == [("send_message", {"message": "Here you go."})]
    assert reply.stop is Stop.TOOL_USE


def test_required_tool_choice_without_send_message_calls_the_first_tool() -> None:
    assert called(decide(turn("hi", choice="required"))) == [("lookup", {"query": "query-value", "limit": 1})]


def test_a_named_tool_choice_calls_that_tool() -> None:
    assert called(decide(turn("hi", choice="named", forced="note"))) == [("note", {"text": "text-value"})]


def test_required_tool_choice_without_tools_falls_back_to_text() -> None:
    assert decide(turn("hi", tools=(), choice="required")).text == "echo: hi"


@pytest.mark.parametrize("choice", ["auto", "none"])
def test_without_a_forcing_choice_the_final_step_is_text(choice: ToolChoiceMode) -> None:
    assert decide(turn("hi", tools=(LOOKUP, SEND), choice=choice)).tool_calls == ()


def test_empty_is_a_reply_with_neither_text_nor_calls_even_when_a_tool_is_required() -> None:
    assert decide(turn("[[empty]] hi", choice="required")) == Reply(None, (), Stop.END, 0)


def test_truncate_halves_the_text_and_reports_length() -> None:
    reply = decide(turn("[[reply:abcdefgh]] [[truncate]]"))
    assert (reply.text, reply.stop) == ("abcd", Stop.LENGTH)


def test_truncate_keeps_at_least_one_character() -> None:
    assert decide(turn("[[reply:a]] [[truncate]]")).text == "a"


def test_truncate_on_a_forced_call_leaves_unparseable_arguments() -> None:
    [call] = decide(turn("[[truncate]] hi", tools=(SEND,), choice="required")).tool_calls
    assert call.input is None
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(call.arguments)


@pytest.mark.parametrize(
    ("max_tokens", "text", "stop"),
    [
        (2, "one two", Stop.LENGTH),
        (1, "one", Stop.LENGTH),
        (0, "", Stop.LENGTH),
        (4, "one two three four", Stop.END),
        (100, "one two three four", Stop.END),
    ],
)
def test_max_tokens_counts_words_and_cuts_at_a_word_boundary(max_tokens: int, text: str, stop: Stop) -> None:
    reply = decide(turn("[[reply:one two three four]]", max_tokens=max_tokens))
    assert (reply.text, reply.stop, reply.completion_tokens) == (text, stop, len(text.split()))


def test_the_reply_directive_replaces_the_echo_verbatim() -> None:
    assert decide(turn("ignored [[reply:  exact words  ]]")).text == "exact words"


def test_usage_counts_the_words_of_what_was_written() -> None:
    reply = decide(turn('[[tool:note {"text": "a b c"}]]'))
    assert reply.completion_tokens == len(reply.tool_calls[0].arguments.split())


def test_a_decision_depends_only_on_the_turn() -> None:
    directives = Directives(text="same")
    first = Turn("m", directives, 0, (LOOKUP,), "required", None, None, 5)
    second = Turn("m", directives, 0, (LOOKUP,), "required", None, None, 5)
    assert decide(first) == decide(second)
