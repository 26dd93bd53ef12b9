"""This process's Prometheus instruments, in one registry the API (``GET /metrics``) and workers
(``--metrics-port``) expose. Figures that live in the database (items by status, queue depth) are read at
scrape time by ``api/routes/metrics.py``, not kept here.

Label values are bounded: provider and model come from the catalog, lane and outcome are enums.
"""

from prometheus_client import CollectorRegistry, Counter, Histogram

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
