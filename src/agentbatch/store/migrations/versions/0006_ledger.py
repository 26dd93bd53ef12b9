"""the ledger: cost per step and per item, a unique custom_id per batch, idempotency keys

Revision ID: 0006
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import agentbatch.store.column_types

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("steps") as table:
        table.add_column(sa.Column("cost_nanos", sa.BigInteger(), nullable=True))
        table.add_column(sa.Column("direct_cost_nanos", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("batch_items") as table:
        for name in ("cost_nanos", "direct_cost_nanos", "provider_batch_cost_nanos"):
            table.add_column(sa.Column(name, sa.BigInteger(), nullable=False, server_default="0"))
        for name in ("unpriced_steps", "provider_batch_steps"):
            table.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
        table.create_index("ix_batch_items_batch_seq", ["batch_id", "seq"], unique=False)
        table.create_index(
            "uq_batch_items_custom_id",
            ["batch_id", "custom_id"],
            unique=True,
            sqlite_where=sa.text("custom_id IS NOT NULL"),
            postgresql_where=sa.text("custom_id IS NOT NULL"),
        )
    op.create_table(
        "idempotency_keys",
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "key", name=op.f("pk_idempotency_keys")),
    )
    with op.batch_alter_table("idempotency_keys") as table:
        table.create_index("ix_idempotency_keys_expires_at", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("batch_items") as table:
        table.drop_index("uq_batch_items_custom_id")
        table.drop_index("ix_batch_items_batch_seq")
        for name in (
            "provider_batch_steps",
            "unpriced_steps",
            "provider_batch_cost_nanos",
            "direct_cost_nanos",
            "cost_nanos",
        ):
            table.drop_column(name)
    with op.batch_alter_table("steps") as table:
        table.drop_column("direct_cost_nanos")
        table.drop_column("cost_nanos")
