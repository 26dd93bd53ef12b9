"""Every tunable, named once. Read from ``AGENTBATCH_*`` environment variables or passed explicitly."""

import base64
import binascii
import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from agentbatch.domain.lanes import DirectTransport

DEFAULT_DATABASE_URL = "sqlite:///./agentbatch.db"
MIB = 1024 * 1024


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AGENTBATCH_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="sqlite:///path or postgresql://user@host/db; async drivers are picked automatically.",
    )
    api_keys: str = Field(
        default="",
        description="Comma-separated bearer keys. Empty: the server is open, as Letta's local server is.",
    )
    max_body_bytes: int = Field(default=256 * MIB, description="Largest request body accepted.")
    body_read_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="Longest wait for the next part of a request body; a client that stalls mid-body gets "
        "408 and its connection closed.",
    )
    run_worker: bool = Field(default=True, description="Run the batch worker inside `serve`.")

    # Agent turns
    default_max_steps: int = Field(default=50, ge=1)
    tool_timeout_s: float = Field(default=30.0, gt=0)
    tool_memory_mb: int = Field(default=512, ge=16)
    providers_file: Path | None = Field(
        default=None, description="TOML file naming further OpenAI-compatible providers (vllm/…, ollama/…)."
    )

    provider_transport: DirectTransport = Field(
        default="http",
        description="How a direct call reaches its provider: http, our keep-alive HTTP/1.1 client in this "
        "process (~50 µs of CPU a call); sdk, the vendor's SDK client (~1,200 µs), run in provider processes "
        "(decision 0012).",
    )
    provider_processes: int | None = Field(
        default=None,
        ge=0,
        description="With provider_transport=sdk: child processes that run the SDK calls on other cores; "
        "0: in this process; unset: one per spare core, at most 4. They start after start-up and load an SDK "
        "when work comes. Unused with the http transport.",
    )
    provider_process_stop_s: float = Field(
        default=10.0, gt=0, description="How long a stopping provider process may finish before it is killed."
    )

    # Engine
    model_concurrency: int = Field(default=64, ge=1, description="Provider calls in flight per model.")
    turns_per_model: int = Field(
        default=1024,
        ge=1,
        description="Turns a worker holds at once per model: enough waiting turns keep every call slot busy "
        "while others commit or run tools, and make claims and group commits large. 16x model_concurrency: "
        "against 4x, 5,000 single-step requests at 0 ms ran at 681 vs 557 steps/s (overhead.py) and 2,000 "
        "two-step ones at 1,212 vs 1,076 (engine_throughput.py); at 250 ms, 1.08x vs 1.04x of the latency "
        "bound. A turn held waits for a call slot or its provider batch under a renewed lease.",
    )
    claim_poll_s: float = Field(default=0.25, gt=0, description="How often an idle worker looks for work.")
    sync_turn_timeout_s: float = Field(default=600.0, gt=0, description="How long a synchronous send waits.")
    lease_seconds: float = Field(default=30.0, gt=0)
    llm_backoff_base_s: float = Field(default=0.5, gt=0)
    llm_backoff_max_s: float = Field(default=30.0, gt=0)
    callback_timeout_s: float = Field(default=10.0, gt=0)
    callback_max_attempts: int = Field(
        default=1_000, ge=1, description="Callback attempts at most (the retry window usually ends first)."
    )
    callback_backoff_base_s: float = Field(default=2.0, gt=0, description="First retry delay; doubles.")
    callback_secret: str = Field(
        default="",
        description="Standard Webhooks secret (whsec_<base64>); when set, callbacks carry webhook-id, "
        "webhook-timestamp and webhook-signature headers.",
    )
    # The custom-tool sandbox (docs/decisions/0004-tool-sandbox.md).
    tool_sandbox_bwrap: str = Field(
        default="bwrap",
        description="Path (or name on PATH) of bubblewrap, which isolates every custom-tool call.",
    )
    unsafe_sandbox_without_isolation: bool = Field(
        default=False,
        description=(
            "UNSAFE: when bubblewrap is missing or cannot create namespaces, run custom tools anyway in a "
            "plain subprocess that can read the server's files and processes. Off: such calls fail."
        ),
    )
    tool_max_processes: int = Field(
        default=64, ge=2, le=4096, description="Processes (and threads) one custom-tool call may run at once."
    )
    tool_sandbox_uid_base: int = Field(
        default=1_800_000_000,
        ge=1000,
        le=4_000_000_000,
        description="When the server runs as root: each tool call runs as a uid of its own from here on up.",
    )

    # Liveness: no item held without a turn, outages ridden through (docs/architecture.md, invariants)
    llm_retry_budget_s: float = Field(
        default=300.0,
        ge=0,
        description="How long one model call keeps retrying transient failures (5xx, 429, refused "
        "connections, timeouts) before its turn ends with llm_api_error; 0: no retry.",
    )
    turn_deadline_s: float = Field(
        default=3600.0,
        gt=0,
        description="Longest a turn may run; past it the turn is cancelled and handled as a failure.",
    )
    turn_max_attempts: int = Field(
        default=3,
        ge=1,
        description="Claims an item gets: a turn that fails (an unexpected error, a refused commit, its "
        "deadline) returns its item to the queue until then, after that the item errors with the reason.",
    )

    log_format: Literal["kv", "json"] = Field(
        default="kv", description="Log lines as key=value pairs (kv) or one JSON object per line (json)."
    )
    callback_retry_window_s: float = Field(
        default=86_400.0, gt=0, description="Failed callbacks are retried (with backoff) for this long."
    )
    callback_backoff_max_s: float = Field(
        default=3_600.0, gt=0, description="Longest delay between attempts."
    )
    callback_allow_private_urls: bool = Field(
        default=False,
        description="With API keys on, accept callback URLs that resolve to loopback, private or "
        "link-local addresses (refused by default).",
    )

    @field_validator("callback_secret")
    @classmethod
    def _webhook_secret(cls, value: str) -> str:
        if not value:
            return value
        body = value.removeprefix("whsec_")
        try:
            decoded = (
                base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
                if value.startswith("whsec_")
                else b""
            )
        except binascii.Error:
            decoded = b""
        if not decoded:
            raise ValueError("callback_secret must be a Standard Webhooks secret: whsec_<base64 key>")
        return value

    # Results ledger and idempotent create
    idempotency_key_retention_s: float = Field(
        default=86_400.0,
        gt=0,
        description="How long an Idempotency-Key of a batch create is remembered (24 h).",
    )
    results_poll_s: float = Field(
        default=0.5, gt=0, description="How often a followed results stream looks for newly ended requests."
    )
    results_follow_max_s: float = Field(
        default=3_600.0, gt=0, description="The longest a followed results stream stays open."
    )

    # The provider-batch lane (docs/decisions/0005-provider-batch-lane.md)
    dispatch: str = Field(
        default="direct",
        pattern="^(direct|provider_batch|auto)$",
        description="A batch's dispatch when its create body names none: direct, provider_batch or auto.",
    )
    lane_gather_window_s: float = Field(
        default=0.5, gt=0, description="How long lane steps wait for others before their provider batch goes."
    )
    lane_gather_max: int = Field(
        default=1000, ge=1, description="Lane steps that make a provider batch go at once, window or not."
    )
    lane_poll_min_s: float = Field(
        default=0.1, gt=0, description="Shortest interval between polls of one provider batch."
    )
    lane_poll_max_s: float = Field(
        default=2.0,
        gt=0,
        description="Longest interval between polls of one open provider batch (pick-up latency).",
    )
    lane_max_attempts: int = Field(
        default=3,
        ge=1,
        description="Submissions of one step (transient errors, expiries) before its turn errors.",
    )

    lane_submit_max_attempts: int = Field(
        default=4,
        ge=1,
        description="Tries of one provider batch submission that fails transiently (a 429 is waited out).",
    )
    lane_submit_backoff_base_s: float = Field(
        default=0.5, gt=0, description="First wait before a submission is retried; doubles."
    )
    lane_submit_backoff_max_s: float = Field(
        default=60.0, gt=0, description="Longest wait between submission tries."
    )

    lane_turnaround_s: float = Field(
        default=600.0,
        gt=0,
        description="Expected provider batch turnaround until one is observed (dispatch auto with a window).",
    )
    lane_direct_step_s: float = Field(
        default=30.0, gt=0, description="Expected duration of one direct step (dispatch auto with a window)."
    )
    lane_reserve_steps: int = Field(
        default=3,
        ge=0,
        description="Direct steps a completion window must still hold after a lane step for auto to use it.",
    )

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql", "postgres://")):
            raise ValueError("database_url must be an sqlite:// or postgresql:// URL")
        return value

    @property
    def provider_process_count(self) -> int:
        if self.provider_transport == "http":
            return 0
        if self.provider_processes is not None:
            return self.provider_processes
        return max(0, min(4, (os.cpu_count() or 1) - 1))

    @property
    def api_key_list(self) -> list[str]:
        return [key.strip() for key in self.api_keys.split(",") if key.strip()]
