"""This process's Prometheus instruments, in one registry the API (``GET /metrics``) and workers
(``--metrics-port``) expose. Figures that live in the database (items by status, queue depth) are read at
scrape time by ``api/routes/metrics.py``, not kept here.

Label values are bounded: provider and model come from the catalog, lane and outcome are enums.
"""

import asyncio
import time
from collections.abc import Awaitable
from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram

T = TypeVar("T")

REGISTRY = CollectorRegistry(auto_describe=True)

STEPS = Counter(
    "agentbatch_steps",
    "Agent steps committed (one model call each), by provider, model, lane and outcome (the finish reason).",
    ["provider", "model", "lane", "outcome"],
    registry=REGISTRY,
)
PROVIDER_CALLS = Counter(
    "agentbatch_provider_calls",
    "Provider calls made by the gateway, by provider, model, lane and outcome (ok or the error kind).",
    ["provider", "model", "lane", "outcome"],
    registry=REGISTRY,
)
PROVIDER_CALL_SECONDS = Histogram(
    "agentbatch_provider_call_seconds",
    "Latency of provider calls, by provider, model and lane.",
    ["provider", "model", "lane"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120),
    registry=REGISTRY,
)
TOKENS = Counter(
    "agentbatch_tokens",
    "Tokens used by committed steps, by provider, model and kind (prompt or completion).",
    ["provider", "model", "kind"],
    registry=REGISTRY,
)
COST_USD = Counter(
    "agentbatch_cost_usd",
    "What committed steps cost at list price in their lane, by provider, model and lane (priced models).",
    ["provider", "model", "lane"],
    registry=REGISTRY,
)
SAVED_USD = Counter(
    "agentbatch_saved_usd",
    "What the provider-batch lane saved against direct calls for the same tokens, by provider and model.",
    ["provider", "model"],
    registry=REGISTRY,
)
ITEMS_FINISHED = Counter(
    "agentbatch_items_finished",
    "Requests this process ended, by status (succeeded, errored, cancelled, expired) and stop reason "
    "(empty for an expired request, which has none).",
    ["status", "stop_reason"],
    registry=REGISTRY,
)
LEASE_EXPIRIES = Counter(
    "agentbatch_lease_expiries",
    "Running items whose lease expired and that went back to the queue.",
    registry=REGISTRY,
)
CALLBACK_ATTEMPTS = Counter(
    "agentbatch_callback_attempts",
    "Callback delivery attempts, by result: delivered, failed (will retry), gave_up.",
    ["result"],
    registry=REGISTRY,
)
CALLBACK_SECONDS = Histogram(
    "agentbatch_callback_seconds",
    "Latency of callback delivery attempts.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
    registry=REGISTRY,
)


def provider_of(model: str) -> str:
    """``openai/gpt-4o-mini`` → ``openai``; a handle without a provider prefix → ``unknown``."""
    provider, slash, _ = model.partition("/")
    return provider if slash else "unknown"


async def observed_call(provider: str, model: str, call: Awaitable[T], *, lane: str = "direct") -> T:
    """Await one provider call, counting its outcome and timing it."""
    started = time.perf_counter()
    outcome = "ok"
    try:
        return await call
    except BaseException as error:
        outcome = "cancelled" if isinstance(error, asyncio.CancelledError) else type(error).__name__
        raise
    finally:
        PROVIDER_CALLS.labels(provider, model, lane, outcome).inc()
        PROVIDER_CALL_SECONDS.labels(provider, model, lane).observe(time.perf_counter() - started)


def count_step(model: str, lane: str, finish: str, prompt_tokens: int, completion_tokens: int) -> None:
    provider = provider_of(model)
    STEPS.labels(provider, model, lane, finish or "unknown").inc()
    TOKENS.labels(provider, model, "prompt").inc(prompt_tokens)
    TOKENS.labels(provider, model, "completion").inc(completion_tokens)


def count_cost(model: str, lane: str, cost_nanos: int, saved_nanos: int) -> None:
    """Add one step's cost (nano-dollars, as the ledger stores it) to the cost counters."""
    provider = provider_of(model)
    COST_USD.labels(provider, model, lane).inc(cost_nanos / 1e9)
    if saved_nanos:
        SAVED_USD.labels(provider, model).inc(saved_nanos / 1e9)
