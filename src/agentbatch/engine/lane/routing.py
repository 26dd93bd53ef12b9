"""Which turns take the lane, and the turn-side adapters: a ``ModelGateway`` that sends each step
through the lane and a ``StepSink`` that marks those steps ``provider_batch``."""

from dataclasses import dataclass, field
from datetime import datetime

from agentbatch.domain.lanes import Dispatch, Lane
from agentbatch.domain.turn_records import ClaimedItem, Commit
from agentbatch.engine.lane.deadline import DeadlinePolicy
from agentbatch.engine.lane.dispatcher import LaneDispatcher
from agentbatch.providers.base import ModelRequest, ModelResponse
from agentbatch.providers.catalog import ModelHandle
from agentbatch.runtime.ports import ModelGateway, StepSink
from agentbatch.runtime.tools.sandbox import ToolSandbox
from agentbatch.runtime.turn_loop import TurnRunner
from agentbatch.store import provider_batches as lane_store
from agentbatch.store.database import Database


@dataclass(slots=True)
class LaneGateway:
    """The ``ModelGateway`` of one lane turn: step N of the item goes through the lane as step N —
    or, for ``auto`` with a window the lane would no longer leave room in, directly."""

    dispatcher: LaneDispatcher
    item: ClaimedItem
    next_step: int
    direct: ModelGateway | None = None
    deadline: datetime | None = None
    policy: DeadlinePolicy | None = None
    lane_steps: set[int] = field(default_factory=set)

    async def complete(self, handle: ModelHandle, request: ModelRequest) -> ModelResponse:
        step_no = self.next_step + 1
        if self._goes_direct(handle, step_no):
            assert self.direct is not None
            response = await self.direct.complete(handle, request)
        else:
            response = await self.dispatcher.complete(self.item, step_no, handle, request)
            self.lane_steps.add(step_no)
        self.next_step = step_no
        return response

    def _goes_direct(self, handle: ModelHandle, step_no: int) -> bool:
        if self.direct is None or self.deadline is None or self.policy is None:
            return False
        if self.dispatcher.in_lane(self.item.id, step_no):
            return False  # already submitted (before a restart): its answer is on its way
        return not self.policy.lane_fits(handle.provider, self.deadline)


@dataclass(slots=True)
class LaneSink:
    inner: StepSink
    gateway: LaneGateway

    async def commit(self, commit: Commit) -> None:
        if commit.step is not None and commit.step.step_no in self.gateway.lane_steps:
            commit.step.lane = Lane.PROVIDER_BATCH
        await self.inner.commit(commit)


@dataclass(slots=True)
class LaneTurn:
    runner: TurnRunner
    gateway: LaneGateway

    def sink(self, inner: StepSink) -> StepSink:
        return LaneSink(inner, self.gateway)


class LaneRouter:
    def __init__(
        self,
        db: Database,
        dispatcher: LaneDispatcher,
        sandbox: ToolSandbox,
        direct: ModelGateway,
        policy: DeadlinePolicy,
    ) -> None:
        self._db = db
        self._dispatcher = dispatcher
        self._sandbox = sandbox
        self._direct = direct
        self._policy = policy
        self._dispatch: dict[str, tuple[Dispatch, datetime | None]] = {}  # never changes for a batch

    async def route(self, item: ClaimedItem, handle: ModelHandle) -> LaneTurn | None:
        """The lane turn for this item, or None when it runs direct."""
        if item.batch_id is None:
            return None  # a synchronous send waits for its answer: always direct
        known = self._dispatch.get(item.batch_id)
        if known is None:
            async with self._db.read() as conn:
                found = await lane_store.dispatch_of(conn, [item.batch_id])
            mode, expires_at = found.get(item.batch_id, (Dispatch.DIRECT.value, None))
            known = self._dispatch[item.batch_id] = (Dispatch(mode), expires_at)
        dispatch, expires_at = known
        if dispatch is Dispatch.DIRECT or (
            dispatch is Dispatch.AUTO and not self._dispatcher.supports(handle)
        ):
            return None
        gateway = LaneGateway(self._dispatcher, item, item.step_count)
        if dispatch is Dispatch.AUTO and expires_at is not None:
            gateway.direct, gateway.deadline, gateway.policy = self._direct, expires_at, self._policy
        return LaneTurn(TurnRunner(gateway, self._sandbox), gateway)
