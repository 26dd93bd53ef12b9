"""What an operator would check in the database after a storm: every item ended, each step exactly once,
each step's messages as a turn writes them, every tool call answered, request counts that add up.

``audit(database_url)`` reads everything in a few queries and returns the problems it found as sentences
(an empty list: the database is consistent). Tests assert on the list, so a failure names every problem.
"""

import asyncio
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select

from agentbatch.store.database import Database
from agentbatch.store.tables import batch_items, batches, messages, steps, workers

TERMINAL_ITEM_STATES = frozenset({"succeeded", "errored", "cancelled", "expired"})


def query(database_url: str, *queries: Select[Any]) -> list[list[Any]]:
    """Run read-only queries directly against the database, as an operator would."""

    async def run() -> list[list[Any]]:
        db = Database(database_url)
        try:
            async with db.read() as conn:
                return [list((await conn.execute(q)).all()) for q in queries]
        finally:
            await db.dispose()

    return asyncio.run(run())


@dataclass
class Audit:
    """The database's state after a run, and every broken invariant as a sentence."""

    items: int = 0
    steps: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def add(self, problem: str) -> None:
        if len(self.problems) < 40:  # enough to see the pattern, short enough to read
            self.problems.append(problem)
        elif len(self.problems) == 40:
            self.problems.append("… more problems left out")


def audit(database_url: str, *, expected_steps: dict[str, int] | None = None) -> Audit:
    """Check the whole database. ``expected_steps`` maps an item's input text to the steps its script takes
    (a succeeded item with that input must have exactly that many)."""
    item_rows, step_rows, message_rows, batch_rows = query(
        database_url,
        select(
            batch_items.c.id,
            batch_items.c.batch_id,
            batch_items.c.agent_id,
            batch_items.c.status,
            batch_items.c.step_count,
            batch_items.c.request,
            batch_items.c.lease_owner,
        ),
        select(steps.c.id, steps.c.item_id, steps.c.step_no),
        select(
            messages.c.agent_id,
            messages.c.role,
            messages.c.tool_calls,
            messages.c.tool_call_id,
            messages.c.batch_item_id,
            messages.c.step_id,
        ).order_by(messages.c.seq),
        select(batches.c.id, batches.c.status, batches.c.request_count),
    )
    result = Audit(items=len(item_rows), steps=len(step_rows))
    _check_items(result, item_rows, step_rows, expected_steps or {})
    _check_messages(result, item_rows, step_rows, message_rows)
    _check_batches(result, item_rows, batch_rows)
    return result


def _check_items(
    result: Audit, item_rows: Sequence[Any], step_rows: Sequence[Any], expected: dict[str, int]
) -> None:
    step_numbers: dict[str, list[int]] = defaultdict(list)
    for _, item_id, step_no in step_rows:
        step_numbers[item_id].append(step_no)
    for item_id, _batch, _agent, status, step_count, request, lease_owner in item_rows:
        result.statuses[status] += 1
        if status not in TERMINAL_ITEM_STATES:
            result.add(f"item {item_id} is still {status} (lease owner {lease_owner})")
        numbers = sorted(step_numbers.get(item_id, []))
        if numbers != list(range(1, step_count + 1)):
            result.add(f"item {item_id}: step_count {step_count} but steps {numbers} in the steps table")
        wanted = expected.get(_input_text(request))
        if status == "succeeded" and wanted is not None and step_count != wanted:
            result.add(f"item {item_id} succeeded after {step_count} steps, its script takes {wanted}")


def _input_text(request: Any) -> str:
    if isinstance(request, dict):
        text = request.get("input")
        if isinstance(text, str):
            return text
        for message in request.get("messages") or []:
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, str):
                return content
    return ""


def _check_messages(
    result: Audit, item_rows: Sequence[Any], step_rows: Sequence[Any], message_rows: Sequence[Any]
) -> None:
    known_steps = {step_id for step_id, _, _ in step_rows}
    by_step: dict[str, list[Any]] = defaultdict(list)
    user_messages: Counter[str] = Counter()
    calls_by_agent: dict[str, Counter[str]] = defaultdict(Counter)
    returns_by_agent: dict[str, Counter[str]] = defaultdict(Counter)
    for agent_id, role, tool_calls, tool_call_id, item_id, step_id in message_rows:
        if role == "user" and item_id is not None:
            user_messages[item_id] += 1
        if role == "assistant":
            calls_by_agent[agent_id].update(call["id"] for call in tool_calls or ())
        if role == "tool" and tool_call_id is not None:
            returns_by_agent[agent_id][tool_call_id] += 1
        if step_id is not None:
            by_step[step_id].append((role, tool_calls, tool_call_id))
            if step_id not in known_steps:
                result.add(f"a {role} message of agent {agent_id} belongs to step {step_id}, never committed")
    for step_id in known_steps:
        _check_step_messages(result, step_id, by_step.get(step_id, []))
    for item_id, *_rest in item_rows:
        if user_messages[item_id] > 1:
            result.add(f"item {item_id}: its input is {user_messages[item_id]} times in the history")
    _check_tool_pairs(result, calls_by_agent, returns_by_agent)


def _check_tool_pairs(
    result: Audit, calls_by_agent: dict[str, Counter[str]], returns_by_agent: dict[str, Counter[str]]
) -> None:
    """Every tool call made once and answered once; every tool return answers a call."""
    for agent_id, calls in calls_by_agent.items():
        returns = returns_by_agent.get(agent_id, Counter())
        for call_id, count in calls.items():
            if count != 1 or returns[call_id] != 1:
                result.add(
                    f"agent {agent_id}: tool call {call_id} made {count}x, answered {returns[call_id]}x"
                )
    for agent_id, returns in returns_by_agent.items():
        for call_id in returns.keys() - calls_by_agent.get(agent_id, Counter()).keys():
            result.add(f"agent {agent_id}: a tool return answers {call_id}, which no assistant message made")


def _check_step_messages(result: Audit, step_id: str, rows: list[Any]) -> None:
    """A step writes one assistant message, then one tool message per tool call it made."""
    assistants = [row for row in rows if row[0] == "assistant"]
    if len(assistants) != 1:
        result.add(f"step {step_id} has {len(assistants)} assistant messages (roles {[r[0] for r in rows]})")
        return
    call_ids = sorted(call["id"] for call in assistants[0][1] or ())
    returned = sorted(row[2] for row in rows if row[0] == "tool")
    if call_ids != returned:
        result.add(f"step {step_id}: tool calls {call_ids} but tool returns {returned}")


def _check_batches(result: Audit, item_rows: Sequence[Any], batch_rows: Sequence[Any]) -> None:
    per_batch: Counter[str] = Counter(row[1] for row in item_rows if row[1] is not None)
    for batch_id, status, request_count in batch_rows:
        if per_batch[batch_id] != request_count:
            result.add(f"batch {batch_id}: request_count {request_count} but {per_batch[batch_id]} items")
        if status in ("created", "running"):
            result.add(f"batch {batch_id} is still {status}")


def live_workers(database_url: str) -> list[tuple[str, int]]:
    """(worker id, pid) of every registered worker."""
    (rows,) = query(database_url, select(workers.c.id, workers.c.pid))
    return [(row[0], row[1]) for row in rows]


def steps_by_worker(database_url: str) -> dict[str, int]:
    (rows,) = query(database_url, select(steps.c.worker_id, func.count()).group_by(steps.c.worker_id))
    return {row[0]: row[1] for row in rows}


def running_items(database_url: str) -> list[tuple[str, str | None]]:
    """(item id, lease owner) of every item `running` now."""
    (rows,) = query(
        database_url,
        select(batch_items.c.id, batch_items.c.lease_owner).where(batch_items.c.status == "running"),
    )
    return [(row[0], row[1]) for row in rows]
