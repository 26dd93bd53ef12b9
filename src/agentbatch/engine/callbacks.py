"""Telling the caller a batch has ended: POST to its ``callback_url``, retried with backoff.

The body is what Letta sends (``job_id``, ``status``, ``completed_at``, ``metadata``) plus
``stop_reason`` and ``request_counts``. Each attempt is recorded on the batch (``callback_sent_at``,
``callback_status_code``, ``callback_error``). Deliveries run beside everything else with a timeout and a
bound on how many are in flight, so a slow or dead endpoint delays nothing but its own callback. With
``AGENTBATCH_CALLBACK_SECRET`` set, each POST is signed (``signature_headers``).
"""

import asyncio
import hashlib
import hmac
import logging
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from agentbatch.domain.batches import Batch
from agentbatch.store.callbacks import DueCallback, claim_due_callbacks, record_callback_attempt
from agentbatch.store.database import Database

log = logging.getLogger(__name__)


def signature_headers(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """``X-Agentbatch-Signature: sha256=HMAC(secret, "<timestamp>.<body>")``, so a receiver can check
    that a callback came from this server and is fresh."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Agentbatch-Timestamp": str(timestamp), "X-Agentbatch-Signature": f"sha256={digest}"}


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


class CallbackDispatcher:
    def __init__(
        self,
        db: Database,
        *,
        timeout_s: float,
        max_attempts: int,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 300.0,
        poll_s: float = 0.5,
        max_in_flight: int = 32,
        secret: str = "",
    ) -> None:
        self._db = db
        self._secret = secret
        self._timeout_s = timeout_s
        self._max_attempts = max_attempts
        self._base = backoff_base_s
        self._max = backoff_max_s
        self._poll = poll_s
        self._slots = asyncio.Semaphore(max_in_flight)
        self._max_in_flight = max_in_flight
        self._tasks: set[asyncio.Task[None]] = set()

    async def run_forever(self) -> None:
        async with httpx.AsyncClient(timeout=self._timeout_s, follow_redirects=False) as http:
            try:
                while True:
                    await self._dispatch_due(http)
                    await asyncio.sleep(self._poll)
            finally:
                for task in self._tasks:
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _dispatch_due(self, http: httpx.AsyncClient) -> None:
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
            task = asyncio.create_task(self._deliver(http, callback))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, http: httpx.AsyncClient, callback: DueCallback) -> None:
        batch = callback.batch
        assert batch.callback_url is not None
        status: int | None = None
        error: str | None = None
        async with self._slots:
            try:
                body = orjson.dumps(callback_body(batch))
                headers = {"Content-Type": "application/json"}
                if self._secret:
                    headers.update(signature_headers(self._secret, body, int(time.time())))
                response = await http.post(batch.callback_url, content=body, headers=headers)
                status = response.status_code
                if not 200 <= status < 300:
                    error = f"callback endpoint answered HTTP {status}"
            except httpx.HTTPError as failure:
                error = f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
        attempts = callback.attempts + 1
        now = datetime.now(UTC)
        retry = error is not None and attempts < self._max_attempts
        next_due = now + timedelta(seconds=self._backoff(attempts)) if retry else None
        if error is not None and not retry:
            error = f"{error} (gave up after {attempts} attempts)"
        try:
            async with self._db.write() as conn:
                await record_callback_attempt(
                    conn,
                    batch.id,
                    sent_at=now,
                    status_code=status,
                    error=error,
                    attempts=attempts,
                    next_due_at=next_due,
                )
        except Exception:
            log.exception("could not record the callback of %s; it will be sent again", batch.id)

    def _backoff(self, attempts: int) -> float:
        ceiling = min(self._max, self._base * 2 ** (attempts - 1))
        return random.uniform(ceiling / 2, ceiling)
