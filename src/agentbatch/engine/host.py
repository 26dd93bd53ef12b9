"""Everything that runs turns in one process, built from ``Settings`` and started/stopped together:
the provider registry and gateway, the sandbox, the runtime, the group committer, leases, and the
worker (unless this process only serves the API)."""

import asyncio
import contextlib
import logging
from typing import Any

from agentbatch.domain.ids import IdPrefix, new_id
from agentbatch.engine.agent_commands import AgentCommands
from agentbatch.engine.batch_commands import BatchCommands
from agentbatch.engine.callbacks import CallbackDispatcher
from agentbatch.engine.gateway import EngineGateway
from agentbatch.engine.group_commit import GroupCommitter
from agentbatch.engine.lane.assembly import build_lane
from agentbatch.engine.leases import LeaseKeeper
from agentbatch.engine.signals import EngineSignals
from agentbatch.engine.turn_commands import TurnCommands
from agentbatch.engine.turn_execution import TurnExecutor
from agentbatch.engine.worker import Worker
from agentbatch.providers.catalog import ProviderCatalog
from agentbatch.providers.process_pool import ProviderProcessPool
from agentbatch.providers.registry import ProviderRegistry
from agentbatch.runtime.sandbox import SandboxLimits, ToolSandbox
from agentbatch.runtime.turn import TurnRunner
from agentbatch.settings import Settings
from agentbatch.store.database import Database

log = logging.getLogger(__name__)


class EngineHost:
    def __init__(self, settings: Settings, db: Database, *, run_worker: bool) -> None:
        self.settings = settings
        self.db = db
        self.catalog = ProviderCatalog.from_file(settings.providers_file)
        self.signals = EngineSignals()
        processes = settings.provider_process_count
        self.pool = ProviderProcessPool(processes, settings.providers_file) if processes else None
        self.registry = ProviderRegistry(self.catalog, self.pool)
        self.gateway = EngineGateway(
            self.registry,
            concurrency=settings.model_concurrency,
            max_attempts=settings.llm_max_attempts,
            backoff_base_s=settings.llm_backoff_base_s,
            backoff_max_s=settings.llm_backoff_max_s,
        )
        sandbox = ToolSandbox(
            SandboxLimits(timeout_s=settings.tool_timeout_s, memory_mb=settings.tool_memory_mb)
        )
        self.committer = GroupCommitter(db)
        self.executor = TurnExecutor(
            db, TurnRunner(self.gateway, sandbox), self.committer, self.catalog, settings.default_max_steps
        )
        self.leases = LeaseKeeper(db, new_id(IdPrefix.WORKER), settings.lease_seconds)
        self.lane = build_lane(settings, db, self.catalog, sandbox, self.leases.worker_id, self.gateway)
        self.executor.lane = self.lane.router
        self.signals.on_cancel(lambda _batch_id: self.lane.submitter.wake())
        self.agents = AgentCommands(db, self.catalog)
        self.batches = BatchCommands(db, self.signals, settings.dispatch)
        self.turns = TurnCommands(
            db, self.executor, self.leases, self.signals, timeout_s=settings.sync_turn_timeout_s
        )
        self.worker = (
            Worker(
                db,
                self.executor,
                self.leases,
                self.signals,
                turns_per_model=settings.turns_per_model,
                gateway=self.gateway,
                poll_interval_s=settings.claim_poll_s,
            )
            if run_worker
            else None
        )
        self.callbacks = CallbackDispatcher(
            db,
            timeout_s=settings.callback_timeout_s,
            max_attempts=settings.callback_max_attempts,
            backoff_base_s=settings.callback_backoff_base_s,
            secret=settings.callback_secret,
        )
        self._tasks: list[asyncio.Task[Any]] = []

    async def start(self) -> None:
        if self.pool is not None:
            await self.pool.start()
        self.registry.warm_up()
        self._tasks.append(asyncio.create_task(self.committer.run(), name="group-commit"))
        if self.worker is not None:
            self._tasks.append(asyncio.create_task(self.worker.run(), name="worker"))
            self._tasks.append(asyncio.create_task(self.callbacks.run_forever(), name="callbacks"))
            self._tasks.append(asyncio.create_task(self.lane.dispatcher.run(), name="lane"))
        else:
            self._tasks.append(asyncio.create_task(self.leases.renew_forever(), name="leases"))

    def stats(self) -> dict[str, int]:
        worker = self.worker
        return {
            "claim_transactions": worker.claims if worker else 0,
            "items_claimed": worker.claimed if worker else 0,
            "commit_transactions": self.committer.transactions,
            "commits": self.committer.commits,
            "provider_retries": self.gateway.retries,
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
