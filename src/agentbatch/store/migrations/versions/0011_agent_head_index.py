"""an agent's items indexed while unfinished only, and its head apart (promotion and busy checks seek)

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNFINISHED = "status IN ('pending', 'running')"
_HEAD = f"ready AND {_UNFINISHED}"


def upgrade() -> None:
    with op.batch_alter_table("batch_items") as table:
        table.drop_index("ix_batch_items_agent")
        table.create_index(
            "ix_batch_items_agent_unfinished",
            ["agent_id", "seq"],
            unique=False,
            sqlite_where=sa.text(_UNFINISHED),
            postgresql_where=sa.text(_UNFINISHED),
        )
        table.create_index(
            "ix_batch_items_agent_head",
            ["agent_id"],
            unique=False,
            sqlite_where=sa.text(_HEAD),
            postgresql_where=sa.text(_HEAD),
        )


def downgrade() -> None:
    with op.batch_alter_table("batch_items") as table:
        table.drop_index("ix_batch_items_agent_head")
        table.drop_index("ix_batch_items_agent_unfinished")
        table.create_index("ix_batch_items_agent", ["agent_id", "seq"], unique=False)
