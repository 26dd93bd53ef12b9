"""Directives: ``[[...]]`` instructions embedded in the latest user message.

Grammar (see docs/mock-llm.md for the behaviour of each)::

    [[tool:NAME]]                 [[tool:NAME {"json": "object"}]]
    [[error:STATUS]]  [[error:STATUS:N]]  [[error:STATUS:always]]
    [[sleep:MS]]      [[reply:TEXT]]
    [[cache:READ]]    [[cache:READ:WRITE]]
    [[bad-tool-args]] [[empty]] [[truncate]] [[expire]]

A ``[[`` that is not followed by one of these names is ordinary text. A known name with a
malformed argument raises :class:`DirectiveError` (the request is answered with a 400), as does
repeating any directive other than ``tool``.
"""

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

_FLAGS = frozenset({"bad-tool-args", "empty", "truncate", "expire"})
_WITH_ARGUMENT = frozenset({"tool", "error", "sleep", "reply", "cache"})
_HEAD = re.compile(r"([a-z][a-z-]*)(\]\]|:)")
_TOOL_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
_ERROR_ARGUMENT = re.compile(r"(\d{3})(?::(always|\d+))?")
_SLEEP_ARGUMENT = re.compile(r"\d+(?:\.\d+)?")
_CACHE_ARGUMENT = re.compile(r"(\d+)(?::(\d+))?")
_JSON = json.JSONDecoder()


class DirectiveError(ValueError):
    """A known directive with an argument that does not parse."""


@dataclass(frozen=True, slots=True)
class ToolStep:
    """One scripted tool call; ``arguments`` None means "build them from the tool's schema"."""

    name: str
    arguments: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ErrorDirective:
    """Answer ``status`` to the first ``times`` attempts of a request (every attempt if None)."""

    status: int
    times: int | None = 1

    def applies_to(self, attempt: int) -> bool:
        return self.times is None or attempt <= self.times


@dataclass(frozen=True, slots=True)
class Directives:
    """What a user message asks of the emulator, and its text with the directives removed."""

    text: str
    tools: tuple[ToolStep, ...] = ()
    error: ErrorDirective | None = None
    sleep_ms: float = 0.0
    reply: str | None = None
    bad_tool_args: bool = False
    empty: bool = False
    truncate: bool = False
    expire: bool = False
    cache_read: int = 0
    """Prompt tokens each step reports as read from the prompt cache (capped at the prompt)."""
    cache_write: int = 0
    """Prompt tokens each step reports as written to the cache (Anthropic only; capped likewise)."""


def parse_directives(text: str) -> Directives:
    """Extract the directives of ``text``; ``Directives.text`` is the rest, whitespace-trimmed."""
    if "[[" not in text:
        return Directives(text=text.strip())
    return _parse(text)


@dataclass(slots=True)
class _Builder:
    tools: list[ToolStep] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    values: dict[str, Any] = field(default_factory=dict)

    def once(self, name: str, value: Any) -> None:
        if name in self.seen:
            raise DirectiveError(f"the [[{name}...]] directive may appear only once")
        self.seen.add(name)
        self.values[name] = value


@lru_cache(maxsize=4096)
def _parse(text: str) -> Directives:
    builder = _Builder()
    kept: list[str] = []
    position = 0
    start = text.find("[[")
    while start != -1:
        head = _HEAD.match(text, start + 2)
        name = head.group(1) if head else ""
        if head is None or (name not in _FLAGS and name not in _WITH_ARGUMENT):
            start = text.find("[[", start + 1)
            continue
        end = _parse_one(text, name, head.group(2), head.end(), builder)
        kept.append(text[position:start])
        position = end
        start = text.find("[[", end)
    kept.append(text[position:])
    values = builder.values
    return Directives(
        text="".join(kept).strip(),
        tools=tuple(builder.tools),
        error=values.get("error"),
        sleep_ms=values.get("sleep", 0.0),
        reply=values.get("reply"),
        bad_tool_args="bad-tool-args" in values,
        empty="empty" in values,
        truncate="truncate" in values,
        expire="expire" in values,
        cache_read=values.get("cache", (0, 0))[0],
        cache_write=values.get("cache", (0, 0))[1],
    )


def _parse_one(text: str, name: str, separator: str, index: int, builder: _Builder) -> int:
    """Record directive ``name`` whose argument (if any) starts at ``index``; return the end index."""
    if name in _FLAGS:
        if separator != "]]":
            raise DirectiveError(f"[[{name}]] takes no argument")
        builder.once(name, True)
        return index
    if separator != ":":
        raise DirectiveError(f"[[{name}:...]] needs an argument")
    if name == "tool":
        return _parse_tool(text, index, builder)
    close = text.find("]]", index)
    if close == -1:
        raise DirectiveError(f"[[{name}:... is not closed with ]]")
    argument = text[index:close]
    if name == "error":
        builder.once(name, _error_argument(argument))
    elif name == "sleep":
        if not _SLEEP_ARGUMENT.fullmatch(argument):
            raise DirectiveError(f"[[sleep:{argument}]]: MS must be a non-negative number of milliseconds")
        builder.once(name, float(argument))
    elif name == "cache":
        cache = _CACHE_ARGUMENT.fullmatch(argument)
        if cache is None:
            raise DirectiveError(f"[[cache:{argument}]]: expected READ or READ:WRITE (token counts)")
        builder.once(name, (int(cache.group(1)), int(cache.group(2) or 0)))
    else:
        builder.once(name, argument.strip())
    return close + 2


def _error_argument(argument: str) -> ErrorDirective:
    match = _ERROR_ARGUMENT.fullmatch(argument)
    status = int(match.group(1)) if match else 0
    if match is None or not 400 <= status <= 599:
        raise DirectiveError(f"[[error:{argument}]]: expected STATUS, STATUS:N or STATUS:always (400-599)")
    times_text = match.group(2)
    if times_text is None:
        return ErrorDirective(status, 1)
    if times_text == "always":
        return ErrorDirective(status, None)
    if int(times_text) < 1:
        raise DirectiveError(f"[[error:{argument}]]: N must be at least 1")
    return ErrorDirective(status, int(times_text))


def _parse_tool(text: str, index: int, builder: _Builder) -> int:
    name_match = _TOOL_NAME.match(text, index)
    if name_match is None:
        raise DirectiveError("[[tool:NAME]]: NAME must be letters, digits, '_', '-' or '.'")
    position = _skip_spaces(text, name_match.end())
    arguments: dict[str, Any] | None = None
    if text.startswith("{", position):
        try:
            decoded, position = _JSON.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise DirectiveError(
                f"[[tool:{name_match.group()} ...]]: arguments are not JSON ({error})"
            ) from None
        if not isinstance(decoded, dict):
            raise DirectiveError(f"[[tool:{name_match.group()} ...]]: arguments must be a JSON object")
        arguments = decoded
        position = _skip_spaces(text, position)
    if not text.startswith("]]", position):
        raise DirectiveError(f"[[tool:{name_match.group()}...: expected ]] or a JSON object")
    builder.tools.append(ToolStep(name_match.group(), arguments))
    return position + 2


def _skip_spaces(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index
