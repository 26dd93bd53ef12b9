"""The tool-rule solver's finer points: how a conditional rule reads a tool's output, how several rules
combine on one step, and what parse_rules keeps from Letta's JSON."""

from typing import Any

import pytest

from agentbatch.runtime.tools.tool_rules import ToolRule, ToolRuleSolver, parse_rules

TOOLS = frozenset({"check", "yes_path", "no_path", "fallback", "other"})


def solver(*rules: dict[str, Any]) -> ToolRuleSolver:
    return ToolRuleSolver(parse_rules(rules))


def conditional(mapping: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {"type": "conditional", "tool_name": "check", "child_output_mapping": mapping, **extra}


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("true", {"yes_path"}),
        ("True", {"yes_path"}),
        ('{"message": "TRUE"}', {"yes_path"}),
        ("false", {"no_path"}),
        ("yes", {"fallback"}),
        ('{"status": "true"}', {"fallback"}),  # a JSON result is matched on its message only
    ],
)
def test_a_conditional_rule_matches_boolean_keys_case_insensitively(output: str, expected: set[str]) -> None:
    # Letta's JSON keeps the mapping's keys as strings; booleans and numbers come from rules built in code
    mapping = ((True, "yes_path"), (False, "no_path"))
    rules = ToolRuleSolver(
        [ToolRule("conditional", "check", child_output_mapping=mapping, default_child="fallback")]
    )
    rules.record("check", output)

    assert rules.next_step(TOOLS).allowed == expected


@pytest.mark.parametrize(
    ("output", "expected"), [("3", {"yes_path"}), ("three", {"fallback"}), ("4", {"fallback"})]
)
def test_a_conditional_rule_compares_numeric_keys_as_numbers(output: str, expected: set[str]) -> None:
    mapping = ((3, "yes_path"),)
    rules = ToolRuleSolver(
        [ToolRule("conditional", "check", child_output_mapping=mapping, default_child="fallback")]
    )
    rules.record("check", output)

    assert rules.next_step(TOOLS).allowed == expected


def test_a_conditional_rule_matches_string_keys_exactly() -> None:
    rules = solver(conditional({"true": "yes_path"}, default_child="fallback"))
    rules.record("check", "True")

    assert rules.next_step(TOOLS).allowed == {"fallback"}


def test_a_conditional_rule_without_default_leaves_every_tool_open_when_nothing_matches() -> None:
    rules = solver(conditional({"ok": "yes_path"}))
    rules.record("check", "something else")

    step = rules.next_step(TOOLS)

    assert step.allowed == TOOLS and step.forced


def test_a_conditional_rule_only_applies_right_after_its_tool() -> None:
    rules = solver(conditional({"ok": "yes_path"}))
    rules.record("check", "ok")
    rules.record("yes_path", "done")

    assert rules.next_step(TOOLS).allowed == TOOLS


def test_several_init_tools_are_all_offered_and_only_those_the_agent_has() -> None:
    rules = solver(
        {"type": "run_first", "tool_name": "check"},
        {"type": "run_first", "tool_name": "other"},
        {"type": "run_first", "tool_name": "not_attached"},
    )

    step = rules.next_step(TOOLS)

    assert step.allowed == {"check", "other"} and step.forced


def test_an_init_rule_for_a_tool_the_agent_lacks_constrains_nothing() -> None:
    step = solver({"type": "run_first", "tool_name": "not_attached"}).next_step(TOOLS)

    assert step.allowed == TOOLS and not step.forced


def test_rules_on_one_step_combine_to_what_all_of_them_allow() -> None:
    rules = solver(
        {"type": "constrain_child_tools", "tool_name": "check", "children": ["yes_path", "no_path"]},
        {"type": "max_count_per_step", "tool_name": "yes_path", "max_count_limit": 1},
    )
    rules.record("yes_path", "")
    rules.record("check", "")

    step = rules.next_step(TOOLS)

    assert step.allowed == {"no_path"} and step.forced


def test_when_the_rules_leave_nothing_the_step_is_not_forced_and_every_call_is_a_violation() -> None:
    rules = solver(
        {"type": "constrain_child_tools", "tool_name": "check", "children": ["yes_path"]},
        {"type": "max_count_per_step", "tool_name": "yes_path", "max_count_limit": 1},
    )
    rules.record("yes_path", "")
    rules.record("check", "")

    step = rules.next_step(TOOLS)

    assert step.allowed == set() and not step.forced
    assert rules.violation("other", step.allowed) == (
        "[ToolConstraintError] Cannot call other now: the tool rules allow only: none."
    )


def test_a_violation_lists_the_allowed_tools_sorted() -> None:
    message = solver().violation("x", frozenset({"b", "a"}))

    assert message is not None and message.endswith("allow only: a, b.")


def test_parse_rules_keeps_letta_fields_and_fills_defaults() -> None:
    [child, cond, limit, plain] = parse_rules(
        [
            {
                "type": "constrain_child_tools",
                "tool_name": "a",
                "children": ["b", "c"],
                "prompt_template": "x",
            },
            conditional({"ok": "b"}, default_child="c", require_output_mapping=True),
            {"type": "max_count_per_step", "tool_name": "a", "max_count_limit": 3},
            {"type": "exit_loop", "tool_name": "a", "args": "not an object"},
        ]
    )

    assert child.children == ("b", "c")
    assert (cond.child_output_mapping, cond.default_child, cond.require_output_mapping) == (
        (("ok", "b"),),
        "c",
        True,
    )
    assert limit.max_count_limit == 3
    assert (plain.children, plain.max_count_limit, plain.args, plain.default_child) == ((), 0, None, None)


@pytest.mark.parametrize("raw", [None, []])
def test_no_rules_at_all_are_none_and_leave_the_solver_inactive(raw: list[dict[str, Any]] | None) -> None:
    parsed = parse_rules(raw)

    assert parsed == [] and not ToolRuleSolver(parsed).active


def test_a_malformed_rule_is_named_by_its_position() -> None:
    with pytest.raises(ValueError, match=r"^\[2\]\.tool_name"):
        parse_rules(
            [
                {"type": "exit_loop", "tool_name": "a"},
                {"type": "exit_loop", "tool_name": "b"},
                {"type": "exit_loop", "tool_name": ""},
            ]
        )


def test_only_approval_rules_leave_the_solver_inactive() -> None:
    assert not solver({"type": "requires_approval", "tool_name": "a"}).active
    assert solver(
        {"type": "requires_approval", "tool_name": "a"}, {"type": "exit_loop", "tool_name": "b"}
    ).active
