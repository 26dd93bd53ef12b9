"""each message's estimated prompt tokens, so a turn loads only the newest messages that could fit; the
agent's message index carries them, so they are read from the index alone

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL for messages written before: they count as the least a message can take (store/messages.py)
    with op.batch_alter_table("messages") as table:
        table.add_column(sa.Column("estimated_tokens", sa.Integer(), nullable=True))
        table.drop_index("ix_messages_agent_seq")
        table.create_index("ix_messages_agent_seq", ["agent_id", "seq", "estimated_tokens"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("messages") as table:
        table.drop_index("ix_messages_agent_seq")
        table.create_index("ix_messages_agent_seq", ["agent_id", "seq"], unique=False)
        table.drop_column("estimated_tokens")
