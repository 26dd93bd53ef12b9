"""``agentbatch agents list``: the caller's agents, over the HTTP API."""

from typing import Annotated

import typer

from agentbatch.cli.api_client import DEFAULT_URL, ApiKey, LogLevel, Url, call, connect, print_rows

app = typer.Typer(no_args_is_help=True, help="Agents.")


@app.command("list")
def list_agents(
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    log_level: LogLevel = None,
) -> None:
    """The newest agents: id, name, model, last stop reason."""
    with connect(url, api_key, log_level) as client:
        found = call(client, "GET", "/v1/agents/", params={"limit": limit})
    rows = [
        [agent["id"], agent.get("name") or "", agent.get("model") or "", agent.get("last_stop_reason") or ""]
        for agent in found
    ]
    print_rows(["id", "name", "model", "last stop"], rows)
