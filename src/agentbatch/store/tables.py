"""The schema, in SQLAlchemy Core. Alembic migrations (``store/migrations``) create exactly this."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from agentbatch.store.column_types import JsonColumn, SequenceKey, UtcDateTime
from agentbatch.store.item_predicates import AGENT_HEAD_SQL, CLAIMABLE_SQL, UNFINISHED_SQL


def partial_index(name: str, *columns: str, where: str, unique: bool = False) -> Index:
    """An index of the rows matching ``where`` only, on both databases."""
    return Index(name, *columns, unique=unique, sqlite_where=text(where), postgresql_where=text(where))


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(64)

agents = Table(
    "agents",
    metadata,
    Column("id", ID, primary_key=True),
    Column("owner_id", ID, nullable=False),
    Column("name", String(255), nullable=False),
    Column("agent_type", String(32), nullable=False),
    Column("system", Text, nullable=False),
    Column("description", Text),
    Column("model", String(255)),
    Column("llm_config", JsonColumn, nullable=False),
    Column("embedding", String(255)),
    Column("embedding_config", JsonColumn),
    Column("tags", JsonColumn, nullable=False),
    Column("metadata_json", JsonColumn),
    Column("tool_rules", JsonColumn),
    Column("options", JsonColumn, nullable=False, doc="Further create fields, kept as given."),
    Column("last_stop_reason", String(64)),
    Column("last_run_completion", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_agents_owner_created", "owner_id", "created_at", "id"),
)

agent_tags = Table(
    "agent_tags",
    metadata,
    Column("agent_id", ID, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String(255), primary_key=True),
    Index("ix_agent_tags_tag", "tag"),
)

blocks = Table(
    "blocks",
    metadata,
    Column("id", ID, primary_key=True),
    Column("label", String(255), nullable=False),
    Column("value", Text, nullable=False),
    Column("limit", Integer, nullable=False),
    Column("description", Text),
    Column("read_only", Boolean, nullable=False),
    Column("metadata_json", JsonColumn),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("owner_id", ID, doc="Who created the block (or the agent it was created with)."),
    Index("ix_blocks_owner_id", "owner_id"),
)

agent_blocks = Table(
    "agent_blocks",
    metadata,
    Column("agent_id", ID, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    Column("block_id", ID, ForeignKey("blocks.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, nullable=False, doc="Where the block shows in the agent's memory."),
    Index("ix_agent_blocks_block_id", "block_id"),
)
"""Which agents a memory block is attached to: one block may be shared by several (since 0009). A label
is unique among one agent's blocks (checked on attach)."""

tools = Table(
    "tools",
    metadata,
    Column("id", ID, primary_key=True),
    Column("owner_id", ID, doc="NULL for the built-in base tools, shared by everyone."),
    Column("name", String(255), nullable=False),
    Column("description", Text),
    Column("tool_type", String(32), nullable=False),
    Column("json_schema", JsonColumn, nullable=False),
    Column("source_code", Text),
    Column("source_type", String(32)),
    Column("tags", JsonColumn, nullable=False),
    Column("return_char_limit", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("owner_id", "name", name="uq_tools_owner_name"),
    Column("metadata_json", JsonColumn, doc="The tool's ``metadata_``, as given."),
    partial_index("uq_tools_builtin_name", "name", where="owner_id IS NULL", unique=True),
)

agent_tools = Table(
    "agent_tools",
    metadata,
    Column("agent_id", ID, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    Column("tool_id", ID, ForeignKey("tools.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, nullable=False),
)

batches = Table(
    "batches",
    metadata,
    Column("id", ID, primary_key=True),
    Column("owner_id", ID, nullable=False),
    Column("status", String(16), nullable=False),
    Column("stop_reason", String(64)),
    Column("metadata_json", JsonColumn),
    Column("request_count", Integer, nullable=False),
    Column("callback_url", Text),
    Column("callback_sent_at", UtcDateTime),
    Column("callback_status_code", Integer),
    Column("callback_error", Text),
    Column("callback_attempts", Integer, nullable=False, server_default="0"),
    Column("callback_due_at", UtcDateTime, doc="When the next callback attempt is due; NULL: none."),
    Column("expires_at", UtcDateTime),
    Column("started_at", UtcDateTime),
    Column("completed_at", UtcDateTime),
    Column("ttft_ns", BigInteger),
    Column("total_duration_ns", BigInteger),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("last_updated_by_id", ID),
    Column(
        "dispatch", String(16), nullable=False, server_default="direct", doc="direct | provider_batch | auto"
    ),
    Column("callback_webhook_id", String(128), doc="webhook-id of the owed callback; NULL: the batch id."),
    Column("callback_retry_until", UtcDateTime, doc="Failed callback attempts are retried until then."),
    Column("priority", Integer, nullable=False, server_default="0", doc="Higher is claimed first."),
    Index("ix_batches_owner_created", "owner_id", "created_at", "id"),
    partial_index("ix_batches_unfinished", "status", where="status IN ('created', 'pending', 'running')"),
    partial_index("ix_batches_callback_due", "callback_due_at", where="callback_due_at IS NOT NULL"),
)

batch_items = Table(
    "batch_items",
    metadata,
    Column("seq", SequenceKey, primary_key=True, autoincrement=True),
    Column("id", ID, nullable=False, unique=True),
    Column("batch_id", ID, ForeignKey("batches.id", ondelete="CASCADE")),
    Column("owner_id", ID, nullable=False),
    Column("agent_id", ID, nullable=False),
    Column("model", String(255), nullable=False),
    Column("position", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("ready", Boolean, nullable=False, doc="True for the agent's oldest unfinished item only."),
    Column("request", JsonColumn, nullable=False),
    Column("stop_reason", String(64)),
    Column("step_count", Integer, nullable=False, server_default="0"),
    Column("prompt_tokens", Integer, nullable=False, server_default="0"),
    Column("completion_tokens", Integer, nullable=False, server_default="0"),
    Column(
        "cached_tokens", Integer, nullable=False, server_default="0", doc="Prompt tokens read from cache."
    ),
    Column("cache_write_tokens", Integer, nullable=False, server_default="0", doc="Written to cache."),
    Column("ttft_ns", BigInteger),
    Column("duration_ns", BigInteger),
    Column("error", Text),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("lease_owner", ID),
    Column("lease_expires_at", UtcDateTime),
    Column("started_at", UtcDateTime),
    Column("completed_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("custom_id", String(64), doc="The caller's own id for this request, unique in its batch."),
    Column("claim_rank", Integer, nullable=False, server_default="0", doc="Minus the batch's priority."),
    # The ledger (domain/pricing.py): sums over the item's steps, in nano-dollars (1e-9 USD).
    Column("cost_nanos", BigInteger, nullable=False, server_default="0", doc="Priced steps' cost."),
    Column("direct_cost_nanos", BigInteger, nullable=False, server_default="0", doc="The same, all direct."),
    Column("provider_batch_cost_nanos", BigInteger, nullable=False, server_default="0"),
    Column("unpriced_steps", Integer, nullable=False, server_default="0", doc="Steps of unpriced models."),
    Column("provider_batch_steps", Integer, nullable=False, server_default="0"),
    Index("ix_batch_items_batch_status", "batch_id", "status"),
    partial_index("ix_batch_items_agent_unfinished", "agent_id", "seq", where=UNFINISHED_SQL),
    partial_index("ix_batch_items_agent_head", "agent_id", where=AGENT_HEAD_SQL),
    Index("ix_batch_items_batch_seq", "batch_id", "seq"),
    partial_index("ix_batch_items_claimable", "model", "claim_rank", "seq", where=CLAIMABLE_SQL),
    partial_index("ix_batch_items_leases", "lease_expires_at", where="status = 'running'"),
    partial_index(
        "uq_batch_items_custom_id", "batch_id", "custom_id", where="custom_id IS NOT NULL", unique=True
    ),
)

steps = Table(
    "steps",
    metadata,
    Column("id", ID, primary_key=True),
    Column("item_id", ID, ForeignKey("batch_items.id", ondelete="CASCADE"), nullable=False),
    Column("step_no", Integer, nullable=False),
    Column("agent_id", ID, nullable=False),
    Column("batch_id", ID),
    Column("model", String(255)),
    Column("worker_id", ID, doc="The worker that ran the step."),
    Column("finish", String(32)),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column(
        "cached_tokens", Integer, nullable=False, server_default="0", doc="Prompt tokens read from cache."
    ),
    Column("cache_write_tokens", Integer, nullable=False, server_default="0", doc="Written to cache."),
    Column("ttft_ns", BigInteger),
    Column("duration_ns", BigInteger),
    Column("created_at", UtcDateTime, nullable=False),
    Column("lane", String(16), nullable=False, server_default="direct", doc="direct | provider_batch"),
    Column("cost_nanos", BigInteger, doc="What the step cost (1e-9 USD); NULL: its model has no price."),
    Column("direct_cost_nanos", BigInteger, doc="What it would have cost as a direct call."),
    UniqueConstraint("item_id", "step_no", name="uq_steps_item_step"),
)

messages = Table(
    "messages",
    metadata,
    Column("seq", SequenceKey, primary_key=True, autoincrement=True),
    Column("id", ID, nullable=False, unique=True),
    Column("agent_id", ID, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False),
    Column("owner_id", ID, nullable=False),
    Column("role", String(16), nullable=False),
    Column("content", JsonColumn, nullable=False),
    Column("tool_calls", JsonColumn),
    Column("tool_call_id", String(255)),
    Column("tool_returns", JsonColumn),
    Column("name", String(255)),
    Column("otid", String(255)),
    Column("sender_id", String(255)),
    Column("group_id", String(255)),
    Column("batch_id", ID),
    Column("batch_item_id", ID),
    Column("step_id", ID),
    Column("run_id", ID),
    Column("model", String(255)),
    Column("is_err", Boolean, nullable=False, server_default=false()),
    Column("approval_request_id", String(255)),
    Column("approve", Boolean),
    Column("denial_reason", Text),
    Column("approvals", JsonColumn),
    Column("created_at", UtcDateTime, nullable=False),
    Column("estimated_tokens", Integer),  # domain.messages.estimated_tokens; NULL before migration 0012
    Index("ix_messages_agent_seq", "agent_id", "seq", "estimated_tokens"),  # sizes read from the index
    Index("ix_messages_batch_seq", "batch_id", "seq"),
    Index("ix_messages_item", "batch_item_id"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("owner_id", ID, primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("body_hash", String(64), nullable=False, doc="SHA-256 of the create body, canonical JSON."),
    Column("batch_id", ID, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index("ix_idempotency_keys_expires_at", "expires_at"),
)

workers = Table(
    "workers",
    metadata,
    Column("id", ID, primary_key=True),
    Column("hostname", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("heartbeat_at", UtcDateTime, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", ID, nullable=False, doc="The owner id of everything made with this key."),
    Column("name", String(255)),
    Column("key_digest", String(64), nullable=False, doc="SHA-256 of the key, hex; the key is never stored."),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    UniqueConstraint("key_digest", name="uq_api_keys_key_digest"),
    Index("ix_api_keys_tenant", "tenant_id"),
)

callback_deliveries = Table(
    "callback_deliveries",
    metadata,
    Column("seq", SequenceKey, primary_key=True, autoincrement=True),
    Column("batch_id", ID, ForeignKey("batches.id", ondelete="CASCADE"), nullable=False),
    Column("webhook_id", String(128), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("attempted_at", UtcDateTime, nullable=False),
    Column("status_code", Integer, doc="NULL: the endpoint was not reached."),
    Column("latency_ms", Float, nullable=False),
    Column("error", Text),
    Column("next_attempt_at", UtcDateTime, doc="When it is retried; NULL: delivered or given up."),
    Index("ix_callback_deliveries_batch", "batch_id", "seq"),
)

provider_batches = Table(
    "provider_batches",
    metadata,
    Column("id", ID, primary_key=True, doc="Our submission id (OpenAI: in the batch's metadata)."),
    Column("provider", String(64), nullable=False),
    Column("model", String(255), nullable=False),
    Column("provider_batch_id", String(255), doc="The provider's id; NULL until the submit call returned."),
    Column("status", String(16), nullable=False, doc="submitting | open | cancelling | ended"),
    Column("worker_id", ID, nullable=False, doc="The worker that polls it."),
    Column("request_count", Integer, nullable=False),
    Column(
        "estimated_tokens",
        BigInteger,
        nullable=False,
        server_default="0",
        doc="Its requests' estimated input tokens (quotas).",
    ),
    Column("created_at", UtcDateTime, nullable=False),
    Column("submitted_at", UtcDateTime),
    Column("ended_at", UtcDateTime),
    partial_index("ix_provider_batches_open", "status", where="status <> 'ended'"),
)

provider_batch_requests = Table(
    "provider_batch_requests",
    metadata,
    Column("custom_id", String(64), primary_key=True, doc="<item id>-<step_no>-<attempt>"),
    Column("submission_id", ID, ForeignKey("provider_batches.id", ondelete="CASCADE"), nullable=False),
    Column("item_id", ID, nullable=False),
    Column("batch_id", ID),
    Column("step_no", Integer, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column(
        "state", String(16), nullable=False, doc="submitted | succeeded | errored | expired | canceled | lost"
    ),
    Column("retryable", Boolean, nullable=False, server_default=false()),
    Column("result", JsonColumn, doc="The provider's reply body, for a succeeded request."),
    Column("error", Text),
    UniqueConstraint("item_id", "step_no", "attempt", name="uq_provider_batch_requests_step_attempt"),
    Index("ix_provider_batch_requests_submission", "submission_id"),
)
