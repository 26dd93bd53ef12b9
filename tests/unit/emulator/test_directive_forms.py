"""Directive forms the grammar tests in tests/integration/emulator leave out: how often an error
directive fires, where a directive may sit in the text, and that parsing is stable under repetition."""

import pytest

from agentbatch.emulator.directives import DirectiveError, ErrorDirective, ToolStep, parse_directives


@pytest.mark.parametrize(
    ("directive", "failing_attempts"),
    [
        (ErrorDirective(500, 1), [1]),
        (ErrorDirective(500, 3), [1, 2, 3]),
        (ErrorDirective(500, None), [1, 2, 3, 4, 5]),
    ],
)
def test_an_error_directive_fails_exactly_its_first_attempts(
    directive: ErrorDirective, failing_attempts: list[int]
) -> None:
    assert [attempt for attempt in range(1, 6) if directive.applies_to(attempt)] == failing_attempts


def test_a_lone_double_bracket_before_a_directive_stays_text() -> None:
    parsed = parse_directives("a [[ b [[empty]] c")
    assert parsed.empty and parsed.text == "a [[ b  c"


def test_a_tool_directive_may_span_lines_and_pad_its_arguments() -> None:
    parsed = parse_directives('[[tool:note\n  {"text": "multi\\nline"}\n]]')
    assert parsed.tools == (ToolStep("note", {"text": "multi\nline"}),)


def test_a_tool_directive_with_an_empty_object_passes_no_arguments_rather_than_schema_ones() -> None:
    assert parse_directives("[[tool:note {}]]").tools == (ToolStep("note", {}),)
    assert parse_directives("[[tool:note]]").tools == (ToolStep("note", None),)


@pytest.mark.parametrize(
    "repeated", ["[[reply:a]] [[reply:b]]", "[[sleep:1]] [[sleep:2]]", "[[cache:1]] [[cache:2]]"]
)
def test_a_directive_that_sets_one_value_may_not_repeat(repeated: str) -> None:
    with pytest.raises(DirectiveError, match="only once"):
        parse_directives(repeated)


def test_a_refusal_names_the_directive_and_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"\[\[sleep:soon\]\]"):
        parse_directives("[[sleep:soon]]")


def test_the_same_text_parses_to_the_same_directives_every_time() -> None:
    text = '[[tool:a {"x": [1]}]] [[error:503:2]] [[cache:10:5]] go'
    assert parse_directives(text) == parse_directives(text) == parse_directives(str(text))
    parsed = parse_directives(text)
    assert (parsed.error, parsed.cache_read, parsed.cache_write, parsed.text) == (
        ErrorDirective(503, 2),
        10,
        5,
        "go",
    )


def test_a_sleep_may_be_whole_or_fractional_milliseconds() -> None:
    assert parse_directives("[[sleep:250]]").sleep_ms == 250.0
    assert parse_directives("[[sleep:0.5]]").sleep_ms == 0.5
