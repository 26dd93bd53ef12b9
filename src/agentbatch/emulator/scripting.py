"""Deciding the reply from the directives and the state of the conversation (protocol-neutral).

A turn is a script of steps, one per model request: an optional malformed tool call
(``[[bad-tool-args]]``), then one call per ``[[tool:...]]`` directive in order, then the final
step. The step a request is at is the number of assistant messages with tool calls since the
latest user message. The final step is an empty reply (``[[empty]]``), a forced tool call when
``tool_choice`` demands one, or the text ``[[reply:TEXT]]`` / ``echo: <user text>``; ``[[truncate]]``
or a ``max_tokens`` smaller than the text cuts it short.
"""

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

import orjson

from agentbatch.emulator.directives import Directives
from agentbatch.emulator.schema_args import arguments_from_schema

ToolChoiceMode = Literal["auto", "none", "required", "named"]
BROKEN_ARGUMENTS = '{"broken": '
SEND_MESSAGE = "send_message"
_WORD = re.compile(r"\S+")


class Stop(Enum):
    END = "end"
    TOOL_USE = "tool_use"
    LENGTH = "length"


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool offered in the request: its name and its parameters' JSON schema."""

    name: str
    schema: object = None


@dataclass(frozen=True, slots=True)
class Turn:
    """The protocol-neutral view of one model request."""

    model: str
    directives: Directives
    steps_taken: int
    tools: tuple[ToolSpec, ...]
    tool_choice: ToolChoiceMode
    forced_tool: str | None
    max_tokens: int | None
    prompt_tokens: int


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call as the model wrote it: ``arguments`` is JSON text, possibly invalid."""

    name: str
    arguments: str
    input: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Reply:
    text: str | None
    tool_calls: tuple[ToolCall, ...]
    stop: Stop
    completion_tokens: int


def count_words(text: str) -> int:
    return len(text.split())


def decide(turn: Turn) -> Reply:
    """The reply the scripted model gives at this point of the turn."""
    directives = turn.directives
    step = turn.steps_taken
    if directives.bad_tool_args:
        if step == 0:
            name = directives.tools[0].name if directives.tools else _first_tool_name(turn)
            return _tool_reply(ToolCall(name, BROKEN_ARGUMENTS, None), Stop.TOOL_USE)
        step -= 1
    if step < len(directives.tools):
        scripted = directives.tools[step]
        arguments = scripted.arguments
        if arguments is None:
            arguments = arguments_from_schema(_schema_of(turn, scripted.name))
        return _tool_reply(_call(scripted.name, arguments), Stop.TOOL_USE)
    return _final_reply(turn, directives)


def _final_reply(turn: Turn, directives: Directives) -> Reply:
    if directives.empty:
        return Reply(None, (), Stop.END, 0)
    text = directives.reply if directives.reply is not None else f"echo: {directives.text}"
    forced = _forced_call(turn, text)
    if forced is not None:
        if directives.truncate:
            cut = forced.arguments[: len(forced.arguments) // 2]
            return _tool_reply(ToolCall(forced.name, cut, None), Stop.LENGTH)
        return _tool_reply(forced, Stop.TOOL_USE)
    if directives.truncate:
        text = text[: max(1, len(text) // 2)]
        return Reply(text, (), Stop.LENGTH, count_words(text))
    words = count_words(text)
    if turn.max_tokens is not None and words > turn.max_tokens:
        text = _first_words(text, turn.max_tokens)
        return Reply(text, (), Stop.LENGTH, count_words(text))
    return Reply(text, (), Stop.END, words)


def _forced_call(turn: Turn, text: str) -> ToolCall | None:
    if turn.tool_choice == "named" and turn.forced_tool:
        name = turn.forced_tool
    elif turn.tool_choice == "required" and turn.tools:
        offered = {tool.name for tool in turn.tools}
        name = SEND_MESSAGE if SEND_MESSAGE in offered else turn.tools[0].name
    else:
        return None
    arguments = arguments_from_schema(_schema_of(turn, name))
    if name == SEND_MESSAGE:
        arguments["message"] = text
    return _call(name, arguments)


def _call(name: str, arguments: dict[str, Any]) -> ToolCall:
    return ToolCall(name, orjson.dumps(arguments).decode(), arguments)


def _tool_reply(call: ToolCall, stop: Stop) -> Reply:
    return Reply(None, (call,), stop, count_words(call.arguments))


def _schema_of(turn: Turn, name: str) -> object:
    for tool in turn.tools:
        if tool.name == name:
            return tool.schema
    return None


def _first_tool_name(turn: Turn) -> str:
    return turn.tools[0].name if turn.tools else SEND_MESSAGE


def _first_words(text: str, count: int) -> str:
    if count <= 0:
        return ""
    for index, match in enumerate(_WORD.finditer(text), start=1):
        if index == count:
            return text[: match.end()]
    return text
