"""The lane of one process, built from ``Settings``."""

from dataclasses import dataclass

from agentbatch.engine.lane.deadline import DeadlinePolicy
from agentbatch.engine.lane.dispatcher import LaneDispatcher, LaneSettings
from agentbatch.engine.lane.routing import LaneRouter
from agentbatch.engine.lane.submission import SubmitRetry, Submitter
from agentbatch.providers.catalog import ProviderCatalog
from agentbatch.providers.quotas import load_quotas
from agentbatch.runtime.ports import ModelGateway
from agentbatch.runtime.tools.sandbox import ToolSandbox
from agentbatch.settings import Settings
from agentbatch.store.database import Database


@dataclass(frozen=True, slots=True)
class Lane:
    submitter: Submitter
    dispatcher: LaneDispatcher
    router: LaneRouter


def build_lane(
    settings: Settings,
    db: Database,
    catalog: ProviderCatalog,
    sandbox: ToolSandbox,
    worker_id: str,
    direct: ModelGateway,
) -> Lane:
    submitter = Submitter(
        db,
        catalog,
        worker_id,
        poll_min_s=settings.lane_poll_min_s,
        poll_max_s=settings.lane_poll_max_s,
        single_process=db.is_sqlite,
        orphan_after_s=3 * settings.lease_seconds,
        submit_retry=SubmitRetry(
            max_attempts=settings.lane_submit_max_attempts,
            base_s=settings.lane_submit_backoff_base_s,
            max_s=settings.lane_submit_backoff_max_s,
        ),
    )
    dispatcher = LaneDispatcher(
        db,
        submitter,
        LaneSettings(
            gather_window_s=settings.lane_gather_window_s,
            gather_max=settings.lane_gather_max,
            poll_min_s=settings.lane_poll_min_s,
            poll_max_s=settings.lane_poll_max_s,
            max_attempts=settings.lane_max_attempts,
        ),
        load_quotas(settings.providers_file),
    )
    policy = DeadlinePolicy(
        default_turnaround_s=settings.lane_turnaround_s,
        direct_step_s=settings.lane_direct_step_s,
        reserve_steps=settings.lane_reserve_steps,
        observed=submitter.turnaround_s.get,
    )
    return Lane(submitter, dispatcher, LaneRouter(db, dispatcher, sandbox, direct, policy))
