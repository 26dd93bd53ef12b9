"""lanes and custom ids: the batch's dispatch mode, each step's lane, each request's custom_id

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("batches") as table:
        table.add_column(sa.Column("dispatch", sa.String(length=16), nullable=False, server_default="direct"))
    with op.batch_alter_table("batch_items") as table:
        table.add_column(sa.Column("custom_id", sa.String(length=64), nullable=True))
    with op.batch_alter_table("steps") as table:
        table.add_column(sa.Column("lane", sa.String(length=16), nullable=False, server_default="direct"))


def downgrade() -> None:
    with op.batch_alter_table("steps") as table:
        table.drop_column("lane")
    with op.batch_alter_table("batch_items") as table:
        table.drop_column("custom_id")
    with op.batch_alter_table("batches") as table:
        table.drop_column("dispatch")
