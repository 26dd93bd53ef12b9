"""What the benchmark scripts share: agentbatch as a child process, and throw-away PostgreSQL databases."""

import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

PG_ADMIN = os.environ.get("AGENTBATCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def spawn_agentbatch(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``python -m agentbatch ARGS`` with extra environment, its output appended to ``log``."""
    return subprocess.Popen(
        [sys.executable, "-m", "agentbatch", *args],
        env={**os.environ, **env},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def wait_healthy(base_url: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("agentbatch exited early")
        try:
            if httpx.get(f"{base_url}/v1/health/", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError("agentbatch did not start")


async def _admin(statement: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def create_postgres(prefix: str = "agentbatch_bench") -> str | None:
    """A new empty database's URL, or None where PostgreSQL is not reachable."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError):
        return None
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def drop_postgres(url: str) -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
