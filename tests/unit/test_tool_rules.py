"""The tool-rule solver: which tools each step may call, and what ends a turn."""

import pytest

from agentbatch.runtime.tools.tool_rules import ToolRuleSolver, parse_rules

TOOLS = {"search", "answer", "lookup", "finish", "send_message"}


def _solver(*rules: dict[str, object]) -> ToolRuleSolver:
    return ToolRuleSolver(parse_rules(rules))


def test_no_rules_allow_everything_and_force_nothing() -> None:
    solver = _solver()
    step = solver.next_step(TOOLS)
    assert step.allowed == TOOLS and not step.forced and not solver.active


def test_init_rule_forces_the_first_call_only() -> None:
    solver = _solver({"type": "run_first", "tool_name": "search"})
    first = solver.next_step(TOOLS)
    assert first.allowed == {"search"} and first.forced
    solver.record("search", "found")
    assert solver.next_step(TOOLS).allowed == TOOLS


def test_child_rule_narrows_the_step_after_its_tool() -> None:
    solver = _solver(
        {"type": "constrain_child_tools", "tool_name": "search", "children": ["answer", "lookup"]}
    )
    solver.record("search", "x")
    step = solver.next_step(TOOLS)
    assert step.allowed == {"answer", "lookup"} and step.forced
    assert solver.violation("finish", step.allowed) is not None
    assert solver.violation("answer", step.allowed) is None
    solver.record("answer", "y")
    assert solver.next_step(TOOLS).allowed == TOOLS


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ('{"message": "yes"}', {"answer"}),
        ("no", {"lookup"}),
        ("maybe", {"finish"}),
        ('{"message": "1"}', {"send_message"}),
    ],
)
def test_conditional_rule_picks_the_child_by_output(output: str, expected: set[str]) -> None:
    solver = _solver(
        {
            "type": "conditional",
            "tool_name": "search",
            "child_output_mapping": {"yes": "answer", "no": "lookup", "1": "send_message"},
            "default_child": "finish",
        }
    )
    solver.record("search", output)
    assert solver.next_step(TOOLS).allowed == expected


def test_conditional_rule_strict_without_match_allows_nothing() -> None:
    solver = _solver(
        {
            "type": "conditional",
            "tool_name": "search",
            "child_output_mapping": {"yes": "answer"},
            "require_output_mapping": True,
        }
    )
    solver.record("search", "nope")
    step = solver.next_step(TOOLS)
    assert step.allowed == set() and not step.forced


def test_max_count_removes_the_tool_once_used_up() -> None:
    solver = _solver({"type": "max_count_per_step", "tool_name": "search", "max_count_limit": 2})
    solver.record("search", "1")
    assert "search" in solver.next_step(TOOLS).allowed
    solver.record("search", "2")
    assert "search" not in solver.next_step(TOOLS).allowed


def test_parent_rule_gates_children_until_right_after_the_parent() -> None:
    solver = _solver({"type": "parent_last_tool", "tool_name": "lookup", "children": ["answer"]})
    assert "answer" not in solver.next_step(TOOLS).allowed
    solver.record("lookup", "x")
    assert solver.next_step(TOOLS).allowed == {"answer"}
    solver.record("search", "y")
    assert "answer" not in solver.next_step(TOOLS).allowed


def test_terminal_continue_required_and_approval_queries() -> None:
    solver = _solver(
        {"type": "exit_loop", "tool_name": "finish"},
        {"type": "continue_loop", "tool_name": "send_message"},
        {"type": "required_before_exit", "tool_name": "lookup"},
        {"type": "requires_approval", "tool_name": "answer"},
        {"type": "run_first", "tool_name": "search", "args": {"query": "fixed"}},
    )
    assert solver.is_terminal("finish") and not solver.is_terminal("search")
    assert solver.is_continue("send_message")
    assert solver.needs_approval("answer") and not solver.needs_approval("finish")
    assert solver.uncalled_required(TOOLS) == ["lookup"]
    assert (
        solver.uncalled_required(TOOLS - {"lookup"}) == []
    )  # a required tool the agent lacks is not required
    solver.record("lookup", "done")
    assert solver.uncalled_required(TOOLS) == []
    assert solver.fixed_args("search") == {"query": "fixed"} and solver.fixed_args("finish") is None


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ({"type": "teleport", "tool_name": "x"}, "type 'teleport'"),
        ({"type": "exit_loop"}, "tool_name"),
        ({"type": "constrain_child_tools", "tool_name": "x", "children": "y"}, "children"),
        ({"type": "conditional", "tool_name": "x", "child_output_mapping": {}}, "child_output_mapping"),
        ({"type": "max_count_per_step", "tool_name": "x", "max_count_limit": 0}, "max_count_limit"),
    ],
)
def test_malformed_rules_are_named(rule: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_rules([{"type": "exit_loop", "tool_name": "ok"}, rule])
