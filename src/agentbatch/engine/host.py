"""Everything that runs turns in one process, built from ``Settings`` and started/stopped together:
the provider registry and gateway, the sandbox, the runtime, the group committer, leases, and the
worker (unless this process only serves the API)."""

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

from agentbatch.domain.ids import IdPrefix, new_id
from agentbatch.engine.agent_commands import AgentCommands
from agentbatch.engine.batch_commands import BatchCommands
from agentbatch.engine.callbacks import CallbackDispatcher, RetryPolicy
from agentbatch.engine.claimed_turns import ClaimedTurns
from agentbatch.engine.gateway import EngineGateway
from agentbatch.engine.group_commit import GroupCommitter
from agentbatch.engine.lane.assembly import build_lane
from agentbatch.engine.leases import LeaseKeeper
from agentbatch.engine.membership import Membership
from agentbatch.engine.rate_limits import DirectRateLimits
from agentbatch.engine.signals import EngineSignals
from agentbatch.engine.sweeper import Sweeper
from agentbatch.engine.turn_commands import TurnCommands
from agentbatch.engine.turn_contexts import StoredTurnContexts
from agentbatch.engine.turn_execution import TurnExecutor
from agentbatch.engine.worker import Worker
from agentbatch.providers.catalog import ProviderCatalog
from agentbatch.providers.process_pool.pool import ProviderProcessPool
from agentbatch.providers.quotas import load_quotas
from agentbatch.providers.registry import ProviderRegistry
from agentbatch.runtime.tools.sandbox import SandboxIsolation, SandboxLimits, ToolSandbox
from agentbatch.runtime.turn_loop import TurnRunner
from agentbatch.settings import Settings
from agentbatch.store.database import Database
from agentbatch.store.sql_work_queue import SqlWorkQueue

log = logging.getLogger(__name__)


class EngineHost:
    def __init__(self, settings: Settings, db: Database, *, run_worker: bool) -> None:
        self.settings = settings
        self.db = db
        self.catalog = ProviderCatalog.from_file(settings.providers_file)
        self.signals = EngineSignals()
        processes = settings.provider_process_count
        self.pool = (
            ProviderProcessPool(
                processes, settings.providers_file, stop_timeout_s=settings.provider_process_stop_s
            )
            if processes
            else None
        )
        self.registry = ProviderRegistry(self.catalog, self.pool, settings.provider_transport)
        self.gateway = EngineGateway(
            self.registry,
            concurrency=settings.model_concurrency,
            retry_budget_s=settings.llm_retry_budget_s,
            backoff_base_s=settings.llm_backoff_base_s,
            backoff_max_s=settings.llm_backoff_max_s,
            rate_limits=DirectRateLimits(load_quotas(settings.providers_file)),
        )
        sandbox = ToolSandbox(
            SandboxLimits(timeout_s=settings.tool_timeout_s, memory_mb=settings.tool_memory_mb),
            isolation=SandboxIsolation(
                bwrap=settings.tool_sandbox_bwrap,
                unsafe_without_isolation=settings.unsafe_sandbox_without_isolation,
                max_processes=settings.tool_max_processes,
                uid_base=settings.tool_sandbox_uid_base,
            ),
        )
        self.sandbox = sandbox
        self.queue = SqlWorkQueue(db)
        self.committer = GroupCommitter(self.queue, prices=self.catalog.prices)
        self.executor = TurnExecutor(
            StoredTurnContexts(db),
            self.queue,
            TurnRunner(self.gateway, sandbox),
            self.committer,
            self.catalog,
            settings.default_max_steps,
            deadline_s=settings.turn_deadline_s,
            max_attempts=settings.turn_max_attempts,
        )
        self.leases = LeaseKeeper(self.queue, new_id(IdPrefix.WORKER), settings.lease_seconds)
        self.lane = build_lane(settings, db, self.catalog, sandbox, self.leases.worker_id, self.gateway)
        self.executor.lane = self.lane.router
        self.signals.on_cancel(lambda _batch_id: self.lane.submitter.wake())
        self.agents = AgentCommands(db, self.catalog, self.signals)
        self.batches = BatchCommands(
            db,
            self.signals,
            key_retention=timedelta(seconds=settings.idempotency_key_retention_s),
            default_dispatch=settings.dispatch,
            catalog=self.catalog,
        )
        self.claimed_turns = ClaimedTurns(self.executor, self.leases, self.signals)
        self.turns = TurnCommands(
            db,
            self.queue,
            self.claimed_turns,
            self.leases,
            self.signals,
            timeout_s=settings.sync_turn_timeout_s,
        )
        self.worker = self._worker(settings) if run_worker else None
        if self.worker is None:  # the worker listens itself; without it, synchronous turns still stop
            self.signals.on_cancel(self.leases.stop_batch)
        self.callbacks = CallbackDispatcher(
            db,
            timeout_s=settings.callback_timeout_s,
            policy=RetryPolicy(
                window_s=settings.callback_retry_window_s,
                max_attempts=settings.callback_max_attempts,
                base_s=settings.callback_backoff_base_s,
                max_s=settings.callback_backoff_max_s,
            ),
            secret=settings.callback_secret,
        )
        self._tasks: list[asyncio.Task[Any]] = []

    def _worker(self, settings: Settings) -> Worker:
        lease = self.leases.lease
        membership = Membership(
            self.queue,
            self.leases.worker_id,
            turns_per_model=settings.turns_per_model,
            lease=lease,
            gateway=self.gateway,
        )
        sweeper = Sweeper(self.queue, self.leases, self.signals, forget_workers_after=20 * lease)
        return Worker(
            self.queue,
            self.claimed_turns,
            self.leases,
            self.signals,
            membership,
            sweeper,
            poll_interval_s=settings.claim_poll_s,
        )

    async def start(self) -> None:
        self.registry.warm_up()
        await self.sandbox.warn_if_not_isolated()
        self._tasks.append(asyncio.create_task(self.committer.run(), name="group-commit"))
        if self.worker is not None:
            self._tasks.append(asyncio.create_task(self.worker.run(), name="worker"))
            self._tasks.append(asyncio.create_task(self.callbacks.run_forever(), name="callbacks"))
            self._tasks.append(asyncio.create_task(self.lane.dispatcher.run(), name="lane"))
            if self.pool is not None:
                # In the background: the server is ready without waiting for them, and the first batch
                # finds them running (docs/decisions/0011-overhead.md).
                self._tasks.append(asyncio.create_task(self._start_pool(), name="provider-processes"))
        else:
            self._tasks.append(asyncio.create_task(self.leases.renew_forever(), name="leases"))

    async def _start_pool(self) -> None:
        assert self.pool is not None
        try:
            await self.pool.start()
        except Exception:  # the first call starts them again, and fails clearly if it cannot
            log.exception("the provider processes could not be started ahead of the first call")

    def stats(self) -> dict[str, int]:
        worker = self.worker
        return {
            "claim_transactions": worker.claims if worker else 0,
            "items_claimed": worker.claimed if worker else 0,
            "commit_transactions": self.committer.transactions,
            "commits": self.committer.commits,
            "provider_retries": self.gateway.retries,
            "provider_pauses": self.gateway.pauses,
            "rate_limit_waits": self.gateway.rate_limits.waits,
            "turns_failed": self.executor.failed_turns,
            "provider_batches_submitted": self.lane.submitter.submitted,
        }

    async def stop(self) -> None:
        log.info("engine stopping: %s", self.stats())
        # The worker first (it releases its leases through the database), then the committer.
        for task in reversed(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.registry.close()
