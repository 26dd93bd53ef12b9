"""api keys: tenants' bearer keys as data, stored as SHA-256 digests

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import agentbatch.store.column_types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("key_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", agentbatch.store.column_types.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_digest", name="uq_api_keys_key_digest"),
    )
    with op.batch_alter_table("api_keys") as table:
        table.create_index("ix_api_keys_tenant", ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as table:
        table.drop_index("ix_api_keys_tenant")
    op.drop_table("api_keys")
