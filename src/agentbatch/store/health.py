"""The cheapest statement that proves the database answers."""

from sqlalchemy import text

from agentbatch.store.database import Connection


async def database_answers(conn: Connection) -> None:
    await conn.execute(text("SELECT 1"))
