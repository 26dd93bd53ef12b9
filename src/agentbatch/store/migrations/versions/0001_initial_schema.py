"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 11:11:58.504910
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import agentbatch.store.column_types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("agent_type", sa.String(length=32), nullable=False),
        sa.Column("system", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("model", sa.String(length=255), nullable=True),
        sa.Column(
            "llm_config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("embedding", sa.String(length=255), nullable=True),
        sa.Column(
            "embedding_config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "metadata_json",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "tool_rules",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "options",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("last_stop_reason", sa.String(length=64), nullable=True),
        sa.Column(
            "last_run_completion", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("created_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
    )
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.create_index("ix_agents_owner_created", ["owner_id", "created_at", "id"], unique=False)

    op.create_table(
        "batches",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("stop_reason", sa.String(length=64), nullable=True),
        sa.Column(
            "metadata_json",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("request_count", sa.Integer(), nullable=False),
        sa.Column("callback_url", sa.Text(), nullable=True),
        sa.Column(
            "callback_sent_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("callback_status_code", sa.Integer(), nullable=True),
        sa.Column("callback_error", sa.Text(), nullable=True),
        sa.Column("callback_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("callback_due_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("started_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("ttft_ns", sa.BigInteger(), nullable=True),
        sa.Column("total_duration_ns", sa.BigInteger(), nullable=True),
        sa.Column("created_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_updated_by_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
    )
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.create_index(
            "ix_batches_callback_due",
            ["callback_due_at"],
            unique=False,
            sqlite_where=sa.text("callback_due_at IS NOT NULL"),
            postgresql_where=sa.text("callback_due_at IS NOT NULL"),
        )
        batch_op.create_index("ix_batches_owner_created", ["owner_id", "created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_batches_unfinished",
            ["status"],
            unique=False,
            sqlite_where=sa.text("status IN ('created', 'pending', 'running')"),
            postgresql_where=sa.text("status IN ('created', 'pending', 'running')"),
        )

    op.create_table(
        "tools",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tool_type", sa.String(length=32), nullable=False),
        sa.Column(
            "json_schema",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("source_code", sa.Text(), nullable=True),
        sa.Column("source_type", sa.String(length=32), nullable=True),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("return_char_limit", sa.Integer(), nullable=False),
        sa.Column("created_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tools")),
        sa.UniqueConstraint("owner_id", "name", name="uq_tools_owner_name"),
    )
    with op.batch_alter_table("tools", schema=None) as batch_op:
        batch_op.create_index(
            "uq_tools_builtin_name",
            ["name"],
            unique=True,
            sqlite_where=sa.text("owner_id IS NULL"),
            postgresql_where=sa.text("owner_id IS NULL"),
        )

    op.create_table(
        "workers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
    )
    op.create_table(
        "agent_tags",
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("tag", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_agent_tags_agent_id_agents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("agent_id", "tag", name=op.f("pk_agent_tags")),
    )
    with op.batch_alter_table("agent_tags", schema=None) as batch_op:
        batch_op.create_index("ix_agent_tags_tag", ["tag"], unique=False)

    op.create_table(
        "agent_tools",
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("tool_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_agent_tools_agent_id_agents"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tool_id"], ["tools.id"], name=op.f("fk_agent_tools_tool_id_tools"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("agent_id", "tool_id", name=op.f("pk_agent_tools")),
    )
    op.create_table(
        "batch_items",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=True),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("ready", sa.Boolean(), nullable=False),
        sa.Column(
            "request",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("stop_reason", sa.String(length=64), nullable=True),
        sa.Column("step_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), server_default="0", nullable=False),
        sa.Column("completion_tokens", sa.Integer(), server_default="0", nullable=False),
        sa.Column("ttft_ns", sa.BigInteger(), nullable=True),
        sa.Column("duration_ns", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column(
            "lease_expires_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("started_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_batch_items_batch_id_batches"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_batch_items")),
        sa.UniqueConstraint("id", name=op.f("uq_batch_items_id")),
    )
    with op.batch_alter_table("batch_items", schema=None) as batch_op:
        batch_op.create_index("ix_batch_items_agent", ["agent_id", "seq"], unique=False)
        batch_op.create_index("ix_batch_items_batch_status", ["batch_id", "status"], unique=False)
        batch_op.create_index(
            "ix_batch_items_claimable",
            ["model", "seq"],
            unique=False,
            sqlite_where=sa.text("status = 'pending' AND ready"),
            postgresql_where=sa.text("status = 'pending' AND ready"),
        )
        batch_op.create_index(
            "ix_batch_items_leases",
            ["lease_expires_at"],
            unique=False,
            sqlite_where=sa.text("status = 'running'"),
            postgresql_where=sa.text("status = 'running'"),
        )

    op.create_table(
        "blocks",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("limit", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("read_only", sa.Boolean(), nullable=False),
        sa.Column(
            "metadata_json",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_blocks_agent_id_agents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blocks")),
        sa.UniqueConstraint("agent_id", "label", name="uq_blocks_agent_label"),
    )
    op.create_table(
        "messages",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column(
            "content",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "tool_calls",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("tool_call_id", sa.String(length=255), nullable=True),
        sa.Column(
            "tool_returns",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("otid", sa.String(length=255), nullable=True),
        sa.Column("sender_id", sa.String(length=255), nullable=True),
        sa.Column("group_id", sa.String(length=255), nullable=True),
        sa.Column("batch_id", sa.String(length=64), nullable=True),
        sa.Column("batch_item_id", sa.String(length=64), nullable=True),
        sa.Column("step_id", sa.String(length=64), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("model", sa.String(length=255), nullable=True),
        sa.Column("is_err", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("approval_request_id", sa.String(length=255), nullable=True),
        sa.Column("approve", sa.Boolean(), nullable=True),
        sa.Column("denial_reason", sa.Text(), nullable=True),
        sa.Column(
            "approvals",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_messages_agent_id_agents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_messages")),
        sa.UniqueConstraint("id", name=op.f("uq_messages_id")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index("ix_messages_agent_seq", ["agent_id", "seq"], unique=False)
        batch_op.create_index("ix_messages_batch_seq", ["batch_id", "seq"], unique=False)

    op.create_table(
        "steps",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("step_no", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=True),
        sa.Column("model", sa.String(length=255), nullable=True),
        sa.Column("finish", sa.String(length=32), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("ttft_ns", sa.BigInteger(), nullable=True),
        sa.Column("duration_ns", sa.BigInteger(), nullable=True),
        sa.Column("created_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["batch_items.id"], name=op.f("fk_steps_item_id_batch_items"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_steps")),
        sa.UniqueConstraint("item_id", "step_no", name="uq_steps_item_step"),
    )


def downgrade() -> None:
    op.drop_table("steps")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_batch_seq")
        batch_op.drop_index("ix_messages_agent_seq")

    op.drop_table("messages")
    op.drop_table("blocks")
    with op.batch_alter_table("batch_items", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_batch_items_leases",
            sqlite_where=sa.text("status = 'running'"),
            postgresql_where=sa.text("status = 'running'"),
        )
        batch_op.drop_index(
            "ix_batch_items_claimable",
            sqlite_where=sa.text("status = 'pending' AND ready"),
            postgresql_where=sa.text("status = 'pending' AND ready"),
        )
        batch_op.drop_index("ix_batch_items_batch_status")
        batch_op.drop_index("ix_batch_items_agent")

    op.drop_table("batch_items")
    op.drop_table("agent_tools")
    with op.batch_alter_table("agent_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_tags_tag")

    op.drop_table("agent_tags")
    op.drop_table("workers")
    with op.batch_alter_table("tools", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_tools_builtin_name",
            sqlite_where=sa.text("owner_id IS NULL"),
            postgresql_where=sa.text("owner_id IS NULL"),
        )

    op.drop_table("tools")
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_batches_unfinished",
            sqlite_where=sa.text("status IN ('created', 'pending', 'running')"),
            postgresql_where=sa.text("status IN ('created', 'pending', 'running')"),
        )
        batch_op.drop_index("ix_batches_owner_created")
        batch_op.drop_index(
            "ix_batches_callback_due",
            sqlite_where=sa.text("callback_due_at IS NOT NULL"),
            postgresql_where=sa.text("callback_due_at IS NOT NULL"),
        )

    op.drop_table("batches")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_index("ix_agents_owner_created")

    op.drop_table("agents")
