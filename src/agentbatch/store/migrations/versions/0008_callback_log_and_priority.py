"""callback delivery log, callback retry window and webhook id, per-batch priority

Revision ID: 0008
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import agentbatch.store.column_types

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "callback_deliveries",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("webhook_id", sa.String(length=128), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("attempted_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name="fk_callback_deliveries_batch_id_batches", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("seq", name="pk_callback_deliveries"),
    )
    with op.batch_alter_table("callback_deliveries") as table:
        table.create_index("ix_callback_deliveries_batch", ["batch_id", "seq"], unique=False)
    with op.batch_alter_table("batches") as table:
        table.add_column(sa.Column("callback_webhook_id", sa.String(length=128), nullable=True))
        table.add_column(
            sa.Column(
                "callback_retry_until",
                agentbatch.store.column_types.UtcDateTime(timezone=True),
                nullable=True,
            )
        )
        table.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("batch_items") as table:
        table.add_column(sa.Column("claim_rank", sa.Integer(), nullable=False, server_default="0"))
        table.drop_index("ix_batch_items_claimable")
        table.create_index(
            "ix_batch_items_claimable",
            ["model", "claim_rank", "seq"],
            unique=False,
            sqlite_where=sa.text("status = 'pending' AND ready"),
            postgresql_where=sa.text("status = 'pending' AND ready"),
        )


def downgrade() -> None:
    with op.batch_alter_table("batch_items") as table:
        table.drop_index("ix_batch_items_claimable")
        table.create_index(
            "ix_batch_items_claimable",
            ["model", "seq"],
            unique=False,
            sqlite_where=sa.text("status = 'pending' AND ready"),
            postgresql_where=sa.text("status = 'pending' AND ready"),
        )
        table.drop_column("claim_rank")
    with op.batch_alter_table("batches") as table:
        table.drop_column("priority")
        table.drop_column("callback_retry_until")
        table.drop_column("callback_webhook_id")
    with op.batch_alter_table("callback_deliveries") as table:
        table.drop_index("ix_callback_deliveries_batch")
    op.drop_table("callback_deliveries")
