"""``agentbatch demo``: a batch of agents on the embedded defaults (SQLite + the emulator)."""

import tempfile
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from agentbatch.server import ServerThread
from agentbatch.settings import Settings


def run_demo(agents: int, console: Console) -> None:
    with tempfile.TemporaryDirectory(prefix="agentbatch-demo-") as workdir:
        settings = Settings(database_url=f"sqlite:///{Path(workdir) / 'demo.db'}")
        with ServerThread(settings) as server, httpx.Client(base_url=server.base_url, timeout=60) as client:
            console.print(f"[bold]agentbatch[/] serving at {server.base_url} (SQLite in {workdir})")
            ids = [
                client.post(
                    "/v1/agents/",
                    json={
                        "name": f"demo-{index:04d}",
                        "model": "openai/emulated-model",
                        "memory_blocks": [{"label": "human", "value": f"Demo user number {index}."}],
                    },
                )
                .raise_for_status()
                .json()["id"]
                for index in range(agents)
            ]
            console.print(f"created {len(ids)} agents")
            requests = [
                {"agent_id": agent_id, "input": f"Hello from request {i}"} for i, agent_id in enumerate(ids)
            ]
            batch = client.post("/v1/messages/batches", json={"requests": requests}).raise_for_status().json()
            stored = client.get(f"/v1/messages/batches/{batch['id']}").raise_for_status().json()
            table = Table(title=f"batch {batch['id']}")
            table.add_column("field")
            table.add_column("value")
            for field in ("status", "job_type", "created_at", "completed_at"):
                table.add_row(field, str(stored[field]))
            for status, count in stored["request_counts"].items():
                table.add_row(f"requests {status}", str(count))
            console.print(table)
