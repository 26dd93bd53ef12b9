"""Commits as turns hand them to the queue: a step, or the end of a turn."""

from datetime import UTC, datetime, timedelta

from agentbatch.domain.pricing import PriceTable
from agentbatch.domain.states import StopReason
from agentbatch.domain.turn_records import Commit, StepRecord

PRICES = PriceTable()
NOW = datetime(2026, 1, 1, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def step(step_no: int, item_id: str, *, stop: StopReason | None = None) -> Commit:
    record = StepRecord(step_no, f"step-{item_id}-{step_no}", "openai/m", "stop", 10, 5, 1_000, 2_000)
    return Commit(record, [], [], stop)


def end(stop: StopReason = StopReason.END_TURN, error: str | None = None) -> Commit:
    return Commit(None, [], [], stop, error)
