"""shared memory blocks: which agents a block is attached to moves to the agent_blocks join table, so
one block can be attached to several agents

Revision ID: 0009
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE blocks SET owner_id = (SELECT agents.owner_id FROM agents WHERE agents.id = blocks.agent_id) "
        "WHERE owner_id IS NULL AND agent_id IS NOT NULL"
    )
    # The links wait in a table without foreign keys while SQLite rebuilds `blocks`: its DROP of the old
    # table would otherwise cascade into agent_blocks and delete every link.
    op.create_table(
        "block_links_0009",
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("block_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.execute(
        "INSERT INTO block_links_0009 (agent_id, block_id, position) "
        "SELECT agent_id, id, position FROM blocks WHERE agent_id IS NOT NULL"
    )
    with op.batch_alter_table("blocks") as table:
        table.drop_constraint("uq_blocks_agent_label", type_="unique")
        table.drop_column("agent_id")
        table.drop_column("position")
    op.create_table(
        "agent_blocks",
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("block_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_agent_blocks_agent_id_agents"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["block_id"], ["blocks.id"], name=op.f("fk_agent_blocks_block_id_blocks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("agent_id", "block_id", name=op.f("pk_agent_blocks")),
    )
    op.create_index("ix_agent_blocks_block_id", "agent_blocks", ["block_id"])
    op.execute(
        "INSERT INTO agent_blocks (agent_id, block_id, position) "
        "SELECT agent_id, block_id, position FROM block_links_0009"
    )
    op.drop_table("block_links_0009")


def downgrade() -> None:
    with op.batch_alter_table("blocks") as table:
        table.add_column(sa.Column("agent_id", sa.String(length=64), nullable=True))
        table.add_column(sa.Column("position", sa.Integer(), nullable=False, server_default="0"))
    # A block shared by several agents goes back to one of them (the schema before held one).
    op.execute(
        "UPDATE blocks SET agent_id = (SELECT MIN(agent_id) FROM agent_blocks "
        "WHERE agent_blocks.block_id = blocks.id)"
    )
    op.execute(
        "UPDATE blocks SET position = (SELECT position FROM agent_blocks "
        "WHERE agent_blocks.block_id = blocks.id AND agent_blocks.agent_id = blocks.agent_id) "
        "WHERE agent_id IS NOT NULL"
    )
    op.drop_index("ix_agent_blocks_block_id", table_name="agent_blocks")
    op.drop_table("agent_blocks")
    with op.batch_alter_table("blocks") as table:
        table.create_foreign_key(
            "fk_blocks_agent_id_agents", "agents", ["agent_id"], ["id"], ondelete="CASCADE"
        )
        table.create_unique_constraint("uq_blocks_agent_label", ["agent_id", "label"])
