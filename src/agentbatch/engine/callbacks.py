"""Telling the caller a batch has ended: POST to its ``callback_url``, signed, retried, logged.

The body is what Letta sends (``job_id``, ``status``, ``completed_at``, ``metadata``) plus
``stop_reason`` and ``request_counts``; it goes out on every terminal status (completed, failed,
cancelled, expired). With ``AGENTBATCH_CALLBACK_SECRET`` (``whsec_…``) set, each POST is signed per
Standard Webhooks: ``webhook-id`` (the same for every retry of one message), ``webhook-timestamp`` and
``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``. Failed attempts are retried with
exponential backoff and jitter until the retry window (24 h by default) has passed; the due time lives
in the database, so retries survive restarts. Every attempt is written to the delivery log. Deliveries
run beside everything else with a timeout and a bound on how many are in flight, so a slow or dead
endpoint delays nothing but its own callback.
"""

import asyncio
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson
from standardwebhooks import Webhook

from agentbatch.domain.batches import Batch
from agentbatch.domain.errors import InvalidRequest, NotFound
from agentbatch.engine import metrics
from agentbatch.engine.events import emit
from agentbatch.store import batches as batch_store
from agentbatch.store.callbacks import (
    DeliveryAttempt,
    DueCallback,
    claim_due_callbacks,
    record_callback_attempt,
    schedule_replay,
)
from agentbatch.store.database import Database

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)


def signature_headers(secret: str, webhook_id: str, body: bytes, sent_at: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``, signed with a ``whsec_…`` secret."""
    signature = Webhook(secret).sign(webhook_id, sent_at, body.decode())
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
    }


def callback_body(batch: Batch) -> dict[str, Any]:
    counts = batch.counts
    return {
        "job_id": batch.id,
        "status": batch.status.value,
        "stop_reason": batch.stop_reason,
        "completed_at": batch.completed_at.isoformat() if batch.completed_at else None,
        "metadata": batch.metadata,
        "request_counts": {
            "total": batch.request_count,
            "succeeded": counts.succeeded,
            "errored": counts.errored,
            "cancelled": counts.cancelled,
            "expired": counts.expired,
        },
    }


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter (each delay drawn from [ceiling/2, ceiling]), for ``window_s``
    after the first attempt, and never more than ``max_attempts`` attempts."""

    window_s: float = 86_400.0
    max_attempts: int = 1_000
    base_s: float = 2.0
    max_s: float = 3_600.0

    def delay_s(self, attempts: int) -> float:
        ceiling = min(self.max_s, self.base_s * 2 ** min(attempts - 1, 60))
        return random.uniform(ceiling / 2, ceiling)


class CallbackDispatcher:
    def __init__(
        self,
        db: Database,
        *,
        timeout_s: float,
        policy: RetryPolicy,
        poll_s: float = 0.5,
        max_in_flight: int = 32,
        secret: str = "",
    ) -> None:
        self._db = db
        self._secret = secret
        self._timeout_s = timeout_s
        self._policy = policy
        self._poll = poll_s
        self._slots = asyncio.Semaphore(max_in_flight)
        self._max_in_flight = max_in_flight
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: httpx.AsyncClient | None = None

    async def run_forever(self) -> None:
        try:
            while True:
                await self._dispatch_due()
                await asyncio.sleep(self._poll)
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            if self._http is not None:
                await self._http.aclose()

    def _client(self) -> "httpx.AsyncClient":
        """The HTTP client, made with the first callback due: a server that sends none never imports
        httpx (a fifth of start-up on a small machine: docs/decisions/0011-overhead.md)."""
        if self._http is None:
            import httpx

            self._http = httpx.AsyncClient(timeout=self._timeout_s, follow_redirects=False)
        return self._http

    async def _dispatch_due(self) -> None:
        free = self._max_in_flight - len(self._tasks)
        if free <= 0:
            return
        now = datetime.now(UTC)
        try:
            async with self._db.write() as conn:
                due = await claim_due_callbacks(
                    conn, now, now + timedelta(seconds=self._timeout_s * 2 + 5), free
                )
        except Exception:
            log.exception("could not read due callbacks; will retry")
            return
        for callback in due:
            task = asyncio.create_task(self._deliver(self._client(), callback))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _post(self, http: "httpx.AsyncClient", callback: DueCallback) -> tuple[int | None, str | None]:
        batch = callback.batch
        assert batch.callback_url is not None
        body = orjson.dumps(callback_body(batch))
        headers = {"Content-Type": "application/json"}
        if self._secret:
            headers.update(signature_headers(self._secret, callback.webhook_id, body, datetime.now(UTC)))
        import httpx

        try:
            response = await http.post(batch.callback_url, content=body, headers=headers)
        except httpx.HTTPError as failure:
            return None, f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
        status = response.status_code
        return status, None if 200 <= status < 300 else f"callback endpoint answered HTTP {status}"

    async def _deliver(self, http: "httpx.AsyncClient", callback: DueCallback) -> None:
        batch = callback.batch
        async with self._slots:
            attempted_at = datetime.now(UTC)
            started = time.perf_counter()
            status, error = await self._post(http, callback)
            latency_s = time.perf_counter() - started
        attempts = callback.attempts + 1
        now = datetime.now(UTC)
        retry_until = callback.retry_until or attempted_at + timedelta(seconds=self._policy.window_s)
        next_due: datetime | None = None
        if error is not None:
            candidate = now + timedelta(seconds=self._policy.delay_s(attempts))
            if attempts < self._policy.max_attempts and candidate <= retry_until:
                next_due = candidate
            else:
                error = f"{error} (gave up after {attempts} attempts)"
        result = "delivered" if error is None else ("failed" if next_due else "gave_up")
        metrics.CALLBACK_ATTEMPTS.labels(result).inc()
        metrics.CALLBACK_SECONDS.observe(latency_s)
        if error is not None:
            emit(
                "callback.failed",
                level=logging.WARNING,
                batch_id=batch.id,
                webhook_id=callback.webhook_id,
                attempt=attempts,
                status_code=status,
                error=error,
                next_attempt_at=next_due.isoformat() if next_due else None,
            )
        else:
            emit("callback.delivered", batch_id=batch.id, webhook_id=callback.webhook_id, attempt=attempts)
        attempt = DeliveryAttempt(
            batch_id=batch.id,
            webhook_id=callback.webhook_id,
            attempt=attempts,
            attempted_at=attempted_at,
            status_code=status,
            latency_ms=round(latency_s * 1000, 3),
            error=error,
            next_attempt_at=next_due,
        )
        try:
            async with self._db.write() as conn:
                await record_callback_attempt(conn, attempt, retry_until=retry_until)
        except Exception:
            log.exception("could not record the callback of %s; it will be sent again", batch.id)


class CallbackReplays:
    """``POST …/callbacks/replay``: send an ended batch's callback again, as a new message."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def replay(self, owner_id: str, batch_id: str) -> str:
        async with self._db.write() as conn:
            batch = await batch_store.get_batch(conn, owner_id, batch_id)
            if batch is None:
                raise NotFound(f"Batch {batch_id} not found")
            if batch.callback_url is None:
                raise InvalidRequest(f"Batch {batch_id} has no callback_url; there is nothing to replay")
            if not batch.status.is_terminal:
                raise InvalidRequest(
                    f"Batch {batch_id} is still {batch.status.value}; its callback is sent when it ends"
                )
            webhook_id = f"{batch_id}.replay-{uuid.uuid4().hex[:12]}"
            await schedule_replay(conn, batch_id, webhook_id, datetime.now(UTC))
        return webhook_id
