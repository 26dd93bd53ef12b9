"""cached prompt tokens per step and per item; the estimated tokens of a provider batch (quotas)

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("cached_tokens", "cache_write_tokens")


def upgrade() -> None:
    for table_name in ("steps", "batch_items"):
        with op.batch_alter_table(table_name) as table:
            for name in _COLUMNS:
                table.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("provider_batches") as table:
        table.add_column(sa.Column("estimated_tokens", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("provider_batches") as table:
        table.drop_column("estimated_tokens")
    for table_name in ("batch_items", "steps"):
        with op.batch_alter_table(table_name) as table:
            for name in reversed(_COLUMNS):
                table.drop_column(name)
