"""Letta's tool rules: which tools an agent may call at each step of a turn, and when a call ends it.

Pure: the turn asks the solver before each step (which tools to offer, whether a call is forced) and
tells it each call and its result. Rule types, by their ``type``:

- ``run_first`` (init): the turn's first call must be one of these tools.
- ``exit_loop`` (terminal): calling this tool ends the turn (stop reason ``tool_rule``).
- ``continue_loop``: calling this tool never ends the turn (even ``send_message``).
- ``constrain_child_tools``: after this tool, only its ``children`` may be called.
- ``conditional``: after this tool, the child is chosen by the tool's output (``child_output_mapping``,
  else ``default_child``, else any tool; none at all with ``require_output_mapping``).
- ``max_count_per_step``: at most ``max_count_limit`` calls of this tool in the turn.
- ``parent_last_tool``: the ``children`` may only be called right after this tool.
- ``required_before_exit``: the turn may not end until this tool was called.
- ``requires_approval``: the call waits for the caller's approval (stop reason ``requires_approval``).

A constraint that leaves no tool at all leaves the model free to answer in text.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

RULE_TYPES = frozenset(
    {
        "run_first",
        "exit_loop",
        "continue_loop",
        "constrain_child_tools",
        "conditional",
        "max_count_per_step",
        "parent_last_tool",
        "required_before_exit",
        "requires_approval",
    }
)


CONSTRAINT_ERROR = "[ToolConstraintError]"
"""How the result of a call the rules forbade begins (the call was not run and does not count)."""


@dataclass(frozen=True, slots=True)
class ToolRule:
    type: str
    tool_name: str
    children: tuple[str, ...] = ()
    child_output_mapping: tuple[tuple[Any, str], ...] = ()
    default_child: str | None = None
    require_output_mapping: bool = False
    max_count_limit: int = 0
    args: Mapping[str, Any] | None = None


def parse_rules(raw: Iterable[Mapping[str, Any]] | None) -> list[ToolRule]:
    """Letta's JSON tool rules as ``ToolRule``s; ``ValueError`` names the first malformed one."""
    rules = []
    for index, rule in enumerate(raw or ()):
        kind = rule.get("type")
        name = rule.get("tool_name")
        if kind not in RULE_TYPES:
            raise ValueError(f"[{index}].type {kind!r} is not one of {', '.join(sorted(RULE_TYPES))}")
        if not isinstance(name, str) or not name:
            raise ValueError(f"[{index}].tool_name must be a tool's name")
        children = rule.get("children") or ()
        if kind in ("constrain_child_tools", "parent_last_tool") and not isinstance(children, list):
            raise ValueError(f"[{index}].children must be a list of tool names")
        mapping = rule.get("child_output_mapping") or {}
        if kind == "conditional" and (not isinstance(mapping, dict) or not mapping):
            raise ValueError(f"[{index}].child_output_mapping must map at least one output to a tool")
        limit = rule.get("max_count_limit")
        if kind == "max_count_per_step" and (not isinstance(limit, int) or limit < 1):
            raise ValueError(f"[{index}].max_count_limit must be a whole number >= 1")
        args = rule.get("args")
        rules.append(
            ToolRule(
                type=str(kind),
                tool_name=name,
                children=tuple(str(child) for child in children),
                child_output_mapping=tuple(mapping.items()),
                default_child=rule.get("default_child"),
                require_output_mapping=bool(rule.get("require_output_mapping", False)),
                max_count_limit=int(limit or 0),
                args=args if isinstance(args, dict) else None,
            )
        )
    return rules


@dataclass(frozen=True, slots=True)
class StepTools:
    """What the next step may call: the allowed names, and whether a call is required."""

    allowed: frozenset[str]
    forced: bool


@dataclass(slots=True)
class ToolRuleSolver:
    rules: Sequence[ToolRule]
    called: list[str] = field(default_factory=list)
    last_output: str | None = None

    def _of(self, kind: str) -> list[ToolRule]:
        return [rule for rule in self.rules if rule.type == kind]

    @property
    def active(self) -> bool:
        return any(rule.type != "requires_approval" for rule in self.rules)

    def next_step(self, available: Iterable[str]) -> StepTools:
        """The tools the next step may call, out of those available."""
        names = frozenset(available)
        if not self.called:
            init = [rule.tool_name for rule in self._of("run_first") if rule.tool_name in names]
            if init:
                return StepTools(frozenset(init), forced=True)
            gated = {child for rule in self._of("parent_last_tool") for child in rule.children}
            return StepTools(names - gated, forced=False)
        allowed = set(names)
        constrained = False
        for rule in self.rules:
            valid = self._valid_after(rule, names)
            if valid is not None:
                constrained = constrained or rule.type in ("constrain_child_tools", "conditional")
                allowed &= valid
        return StepTools(frozenset(allowed), forced=constrained and bool(allowed))

    def _valid_after(self, rule: ToolRule, names: frozenset[str]) -> set[str] | None:
        last = self.called[-1] if self.called else None
        if rule.type == "constrain_child_tools":
            return set(rule.children) if last == rule.tool_name else None
        if rule.type == "parent_last_tool":
            return set(rule.children) if last == rule.tool_name else set(names) - set(rule.children)
        if rule.type == "max_count_per_step":
            return (
                set(names) - {rule.tool_name}
                if self.called.count(rule.tool_name) >= rule.max_count_limit
                else None
            )
        if rule.type == "conditional" and last == rule.tool_name:
            return self._conditional_child(rule, names)
        return None

    def _conditional_child(self, rule: ToolRule, names: frozenset[str]) -> set[str]:
        output = _message_of(self.last_output)
        for key, child in rule.child_output_mapping:
            if output is not None and _matches(output, key):
                return {child}
        if rule.require_output_mapping:
            return set()
        return {rule.default_child} if rule.default_child else set(names)

    def violation(self, tool_name: str, allowed: frozenset[str]) -> str | None:
        """Why this call breaks the rules of its step, or None."""
        if tool_name in allowed:
            return None
        shown = ", ".join(sorted(allowed)) or "none"
        return f"{CONSTRAINT_ERROR} Cannot call {tool_name} now: the tool rules allow only: {shown}."

    def record(self, tool_name: str, output: str) -> None:
        self.called.append(tool_name)
        self.last_output = output

    def needs_approval(self, tool_name: str) -> bool:
        return any(rule.tool_name == tool_name for rule in self._of("requires_approval"))

    def is_terminal(self, tool_name: str) -> bool:
        return any(rule.tool_name == tool_name for rule in self._of("exit_loop"))

    def is_continue(self, tool_name: str) -> bool:
        return any(rule.tool_name == tool_name for rule in self._of("continue_loop"))

    def uncalled_required(self, available: Iterable[str]) -> list[str]:
        names = set(available)
        return [
            rule.tool_name
            for rule in self._of("required_before_exit")
            if rule.tool_name in names and rule.tool_name not in self.called
        ]

    def fixed_args(self, tool_name: str) -> Mapping[str, Any] | None:
        """Arguments a rule fixes for this tool (they replace the model's)."""
        for rule in self.rules:
            if rule.tool_name == tool_name and rule.args is not None:
                return rule.args
        return None


def _message_of(output: str | None) -> str | None:
    """Letta matches on the ``message`` of a JSON tool result, or on the raw text."""
    if output is None:
        return None
    try:
        parsed = orjson.loads(output)
    except orjson.JSONDecodeError:
        return output
    if isinstance(parsed, dict):
        return str(parsed.get("message", ""))
    return output


def _matches(output: str, key: Any) -> bool:
    if isinstance(key, bool):
        return output.lower() == str(key).lower()
    if isinstance(key, int | float):
        try:
            return float(output) == float(key)
        except ValueError:
            return False
    return output == str(key)
