"""detachable blocks: a memory block may exist without an agent (created alone, or detached), owned by
the caller who made it; tools keep their metadata

Revision ID: 0007
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("blocks") as table:
        table.add_column(sa.Column("owner_id", sa.String(length=64), nullable=True))
        table.alter_column("agent_id", existing_type=sa.String(length=64), nullable=True)
        table.create_index("ix_blocks_owner_id", ["owner_id"])
    with op.batch_alter_table("tools") as table:
        table.add_column(
            sa.Column(
                "metadata_json",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("tools") as table:
        table.drop_column("metadata_json")
    op.execute("DELETE FROM blocks WHERE agent_id IS NULL")
    with op.batch_alter_table("blocks") as table:
        table.drop_index("ix_blocks_owner_id")
        table.alter_column("agent_id", existing_type=sa.String(length=64), nullable=False)
        table.drop_column("owner_id")
