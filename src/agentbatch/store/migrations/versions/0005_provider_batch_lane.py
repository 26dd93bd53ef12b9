"""provider-batch lane: open provider batches and the requests they carry

Revision ID: 0005
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import agentbatch.store.column_types

revision: str = "0005"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "provider_batches",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("provider_batch_id", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("request_count", sa.Integer(), nullable=False),
        sa.Column("created_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_batches")),
    )
    op.create_index(
        "ix_provider_batches_open",
        "provider_batches",
        ["status"],
        unique=False,
        sqlite_where=sa.text("status <> 'ended'"),
        postgresql_where=sa.text("status <> 'ended'"),
    )
    op.create_table(
        "provider_batch_requests",
        sa.Column("custom_id", sa.String(length=64), nullable=False),
        sa.Column("submission_id", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=True),
        sa.Column("step_no", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("retryable", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "result",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["provider_batches.id"],
            name=op.f("fk_provider_batch_requests_submission_id_provider_batches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("custom_id", name=op.f("pk_provider_batch_requests")),
        sa.UniqueConstraint("item_id", "step_no", "attempt", name="uq_provider_batch_requests_step_attempt"),
    )
    op.create_index(
        "ix_provider_batch_requests_submission", "provider_batch_requests", ["submission_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_provider_batch_requests_submission", table_name="provider_batch_requests")
    op.drop_table("provider_batch_requests")
    op.drop_index("ix_provider_batches_open", table_name="provider_batches")
    op.drop_table("provider_batches")
