"""``agentbatch batches …``: submit, list, get, watch, cancel and export batches over the HTTP API."""

import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

import typer

from agentbatch.cli.api_client import (
    DEFAULT_URL,
    ApiKey,
    LogLevel,
    Url,
    call,
    connect,
    detail_of,
    fail,
    print_rows,
)
from agentbatch.cli.jsonl_requests import BadLine, RequestLines

if TYPE_CHECKING:
    import httpx

app = typer.Typer(no_args_is_help=True, help="Submit, follow and export batches.")
_REQUEST_INDEX = re.compile(r"requests(?:\.|\[)(\d+)")


@app.command()
def submit(
    file: Annotated[str, typer.Argument(help="JSONL, one request a line; - reads stdin.")],
    callback_url: Annotated[str | None, typer.Option(help="POSTed to when the batch ends.")] = None,
    completion_window: Annotated[str | None, typer.Option(help="e.g. 24h: expire what is left then.")] = None,
    priority: Annotated[int | None, typer.Option(help="Higher runs first among ready work.")] = None,
    follow: Annotated[bool, typer.Option("--watch", help="Follow it until it ends.")] = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    log_level: LogLevel = None,
) -> None:
    """Create a batch from a JSONL file (streamed, never loaded whole); prints its id."""
    import httpx

    extra: dict[str, Any] = {
        key: value
        for key, value in (
            ("callback_url", callback_url),
            ("completion_window", completion_window),
            ("priority", priority),
        )
        if value is not None
    }
    with connect(url, api_key, log_level, timeout=600) as client, _open(file) as source:
        body = RequestLines(source, extra)
        try:
            response = client.post(
                "/v1/messages/batches", content=iter(body), headers={"Content-Type": "application/json"}
            )
        except BadLine as bad:
            fail(f"{file}: {bad}; no batch was created")
        except httpx.HTTPError as failure:
            fail(f"cannot reach {client.base_url}: {failure}")
        if response.status_code >= 400:
            detail = detail_of(response)
            if (found := _REQUEST_INDEX.search(detail)) and (line := body.line_of(int(found.group(1)))):
                detail = f"line {line}: {detail}"
            fail(f"{file}: HTTP {response.status_code}: {detail}; no batch was created")
        batch_id = response.json()["id"]
        typer.echo(batch_id)
        if follow:
            raise typer.Exit(_watch(client, batch_id, stderr=True))


def _open(file: str) -> BinaryIO:
    if file == "-":
        return sys.stdin.buffer
    path = Path(file)
    if not path.is_file():
        fail(f"{file}: no such file")
    return path.open("rb")


@app.command("list")
def list_batches(
    status: Annotated[list[str] | None, typer.Option(help="Only these statuses (repeatable).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    log_level: LogLevel = None,
) -> None:
    """The newest batches, finished ones included."""
    with connect(url, api_key, log_level) as client:
        found = call(client, "GET", "/v1/messages/batches", params={"limit": limit, "status": status or []})
    rows = []
    for batch in found:
        counts = batch.get("request_counts") or {}
        done = sum(int(counts.get(k) or 0) for k in ("succeeded", "errored", "cancelled", "expired"))
        rows.append(
            [
                batch["id"],
                batch["status"],
                f"{done}/{counts.get('total', '?')}",
                str(counts.get("errored", 0)),
                batch.get("created_at") or "",
            ]
        )
    print_rows(["id", "status", "done/total", "errored", "created"], rows)


@app.command()
def get(batch_id: str, url: Url = DEFAULT_URL, api_key: ApiKey = None, log_level: LogLevel = None) -> None:
    """The batch as JSON."""
    with connect(url, api_key, log_level) as client:
        typer.echo(json.dumps(call(client, "GET", f"/v1/messages/batches/{batch_id}"), indent=2))


@app.command("watch")
def watch_command(
    batch_id: str, url: Url = DEFAULT_URL, api_key: ApiKey = None, log_level: LogLevel = None
) -> None:
    """Live progress until it ends. Exit 0: completed; 1 failed; 2 cancelled; 3 expired."""
    with connect(url, api_key, log_level) as client:
        raise typer.Exit(_watch(client, batch_id))


@app.command()
def cancel(batch_id: str, url: Url = DEFAULT_URL, api_key: ApiKey = None, log_level: LogLevel = None) -> None:
    """Cancel an unfinished batch."""
    with connect(url, api_key, log_level) as client:
        batch = call(client, "PATCH", f"/v1/messages/batches/{batch_id}/cancel")
    typer.echo(f"{batch['id']} {batch['status']}")


@app.command()
def results(
    batch_id: str,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here instead of stdout.")
    ] = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    log_level: LogLevel = None,
) -> None:
    """The batch's results as JSONL (one line per request), streamed."""
    import httpx

    with connect(url, api_key, log_level, timeout=600) as client:
        try:
            with client.stream("GET", f"/v1/messages/batches/{batch_id}/results") as response:
                if response.status_code >= 400:
                    response.read()
                    fail(f"HTTP {response.status_code}: {detail_of(response)}")
                sink = output.open("wb") if output else sys.stdout.buffer
                try:
                    for chunk in response.iter_bytes():
                        sink.write(chunk)
                finally:
                    if output:
                        sink.close()
                    else:
                        sink.flush()
        except httpx.HTTPError as failure:
            fail(f"cannot reach {client.base_url}: {failure}")


def _watch(client: "httpx.Client", batch_id: str, *, stderr: bool = False) -> int:
    from rich.console import Console

    from agentbatch.cli.batch_watch import watch

    return watch(client, batch_id, Console(stderr=stderr))
