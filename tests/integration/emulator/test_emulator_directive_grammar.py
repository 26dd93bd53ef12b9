"""The directive grammar: what parses, what is left as text, and what is refused."""

import anthropic
import openai
import pytest
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI

from agentbatch.emulator.directives import DirectiveError, ErrorDirective, ToolStep, parse_directives


def test_text_without_directives_is_only_trimmed() -> None:
    parsed = parse_directives("  keep [this] and [[this too  ")
    assert parsed.text == "keep [this] and [[this too"
    assert parsed.tools == () and parsed.error is None and parsed.reply is None


def test_directives_are_removed_wherever_they_are() -> None:
    parsed = parse_directives("[[empty]]start [[truncate]]middle[[expire]] end [[bad-tool-args]]")
    assert parsed.text == "start middle end"
    assert parsed.empty and parsed.truncate and parsed.expire and parsed.bad_tool_args


def test_tool_directives_keep_their_order_and_arguments() -> None:
    parsed = parse_directives(
        '[[tool:a]] [[tool:b.c-d_e {"s": "x ]] y", "n": {"deep": [{"}": "{"}]}}  ]] [[tool:a]]'
    )
    assert parsed.tools == (
        ToolStep("a"),
        ToolStep("b.c-d_e", {"s": "x ]] y", "n": {"deep": [{"}": "{"}]}}),
        ToolStep("a"),
    )
    assert parsed.text == ""


@pytest.mark.parametrize(
    ("directive", "expected"),
    [
        ("[[error:429]]", ErrorDirective(429, 1)),
        ("[[error:500:3]]", ErrorDirective(500, 3)),
        ("[[error:503:always]]", ErrorDirective(503, None)),
    ],
)
def test_error_directive_forms(directive: str, expected: ErrorDirective) -> None:
    assert parse_directives(f"go {directive}").error == expected


def test_sleep_takes_milliseconds_and_reply_runs_to_the_first_closing_brackets() -> None:
    parsed = parse_directives("[[sleep:12.5]] [[reply:  a: b [c]  ]] tail]]")
    assert parsed.sleep_ms == 12.5
    assert parsed.reply == "a: b [c]"
    assert parsed.text == "tail]]"


def test_cache_takes_tokens_read_and_optionally_written() -> None:
    assert (parse_directives("[[cache:64]] hi").cache_read, parse_directives("hi").cache_read) == (64, 0)
    both = parse_directives("hi [[cache:64:16]]")
    assert (both.cache_read, both.cache_write, both.text) == (64, 16, "hi")


def test_unknown_names_stay_in_the_text() -> None:
    assert (
        parse_directives("see [[note:keep me]] and [[Tool:x]]").text == "see [[note:keep me]] and [[Tool:x]]"
    )


@pytest.mark.parametrize(
    "text",
    [
        "[[error:99]]",
        "[[error:600]]",
        "[[error:500:0]]",
        "[[error:500:sometimes]]",
        "[[sleep:soon]]",
        "[[cache:lots]]",
        "[[cache:1:2:3]]",
        "[[tool:x {not json}]]",
        "[[tool:x [1, 2]]]",
        '[[tool:x {"a": 1} trailing]]',
        "[[tool:]]",
        "[[empty:yes]]",
        "[[reply]]",
        "[[reply:never closed",
        "[[error:500]] [[error:429]]",
        "[[empty]] [[empty]]",
    ],
)
def test_malformed_or_repeated_directives_are_refused(text: str) -> None:
    with pytest.raises(DirectiveError):
        parse_directives(text)


async def test_a_malformed_directive_is_a_400_for_openai_clients(openai_client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "[[error:42]]"}]
        )
    assert "directive" in caught.value.message


async def test_a_malformed_directive_is_a_400_for_anthropic_clients(anthropic_client: AsyncAnthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        await anthropic_client.messages.create(
            model="claude-haiku-4-5", max_tokens=5, messages=[{"role": "user", "content": "[[sleep:x]]"}]
        )
    assert "directive" in caught.value.message
