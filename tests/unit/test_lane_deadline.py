"""dispatch auto with a completion window: a turn starts in the lane and switches to direct calls once
the lane's turnaround would no longer leave room for the remaining steps."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from agentbatch.domain.turn_records import ClaimedItem, Commit, StepRecord
from agentbatch.domain.turn_requests import TurnRequest
from agentbatch.engine.lane.deadline import DeadlinePolicy
from agentbatch.engine.lane.dispatcher import LaneDispatcher
from agentbatch.engine.lane.routing import LaneGateway, LaneSink
from agentbatch.providers.base import ModelRequest, ModelResponse
from agentbatch.providers.catalog import ModelHandle

START = datetime(2026, 1, 1, tzinfo=UTC)
HANDLE = ModelHandle("openai", "gpt-4o-mini")
REPLY = ModelResponse(
    text="ok", tool_calls=[], finish="stop", prompt_tokens=1, completion_tokens=1, model="m"
)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class Calls:
    def __init__(self, name: str, clock: Clock, takes: timedelta) -> None:
        self.name, self.clock, self.takes = name, clock, takes
        self.steps: list[int] = []

    async def complete(self, *args: Any) -> ModelResponse:
        self.steps.append(args[1] if self.name == "lane" else len(self.steps) + 1)
        self.clock.now += self.takes
        return REPLY

    def in_lane(self, item_id: str, step_no: int) -> bool:
        return False


class Sink:
    def __init__(self) -> None:
        self.lanes: list[str] = []

    async def commit(self, commit: Commit) -> None:
        assert commit.step is not None
        self.lanes.append(commit.step.lane)


def _step(step_no: int) -> StepRecord:
    return StepRecord(step_no, f"step-{step_no}", "openai/gpt-4o-mini", "stop", 1, 1, 0, 0)


def test_a_turn_switches_from_the_lane_to_direct_calls_when_the_window_gets_tight() -> None:
    clock = Clock()
    lane = Calls("lane", clock, timedelta(seconds=100))  # each lane step takes a 100 s turnaround
    direct = Calls("direct", clock, timedelta(seconds=5))
    policy = DeadlinePolicy(default_turnaround_s=100, direct_step_s=10, reserve_steps=2, clock=clock)
    item = ClaimedItem(
        "batch_item-1", "job-1", "agent-1", "user", "openai/gpt-4o-mini", TurnRequest(), 0, "w", START
    )
    gateway = LaneGateway(
        cast(LaneDispatcher, lane),
        item,
        0,
        direct=direct,
        deadline=START + timedelta(seconds=250),
        policy=policy,
    )
    sink = LaneSink(Sink(), gateway)
    request = ModelRequest(model="gpt-4o-mini", system="", messages=[])

    async def turn() -> None:
        for step_no in range(1, 5):
            await gateway.complete(HANDLE, request)
            await sink.commit(Commit(_step(step_no)))

    asyncio.run(turn())

    # 250 s of room: lane (needs 100 + 2 x 10), lane again at 100 s (150 left), then 50 s left: direct.
    assert lane.steps == [1, 2]
    assert direct.steps == [1, 2]
    assert cast(Sink, sink.inner).lanes == ["provider_batch", "provider_batch", "direct", "direct"]


def test_an_observed_turnaround_replaces_the_default() -> None:
    clock = Clock()
    observed: dict[str, float] = {}
    policy = DeadlinePolicy(
        default_turnaround_s=600, direct_step_s=10, reserve_steps=1, observed=observed.get, clock=clock
    )
    deadline = START + timedelta(seconds=120)
    assert not policy.lane_fits("openai", deadline)  # 600 s expected: no room
    observed["openai"] = 30.0
    assert policy.lane_fits("openai", deadline)  # batches have been coming back in 30 s
