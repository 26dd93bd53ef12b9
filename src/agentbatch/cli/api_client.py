"""The HTTP side of the ``agentbatch`` client commands: where the server is, the key, one-line errors.

``--url``/``LETTA_BASE_URL`` and ``--api-key``/``LETTA_API_KEY`` are named as the Letta SDK names them.
"""

from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from agentbatch.cli.options import apply_log_level

if TYPE_CHECKING:
    import httpx

# httpx (and rich, which httpx imports) are imported by the functions that use them: `agentbatch serve`
# loads this module to list the commands, and must not pay for a client it never uses.

DEFAULT_URL = "http://127.0.0.1:8283"

Url = Annotated[str, typer.Option("--url", envvar="LETTA_BASE_URL", help="The agentbatch server.")]
ApiKey = Annotated[
    str | None,
    typer.Option("--api-key", envvar="LETTA_API_KEY", help="Bearer key, when the server has keys."),
]
LogLevel = Annotated[
    str | None,
    typer.Option("--log-level", envvar="AGENTBATCH_LOG_LEVEL", help="debug, info, warning, error."),
]


def print_rows(headers: list[str], rows: list[list[str]]) -> None:
    """A table on a terminal; tab-separated lines (whole ids, easy to cut) when piped."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        for row in [headers, *rows]:
            typer.echo("\t".join(row))
        return
    table = Table(*headers)
    for row in rows:
        table.add_row(*row)
    console.print(table)


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def connect(url: str, api_key: str | None, log_level: str | None, *, timeout: float = 60.0) -> "httpx.Client":
    import httpx

    apply_log_level(log_level)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout)


def detail_of(response: "httpx.Response") -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list) and all(isinstance(error, dict) for error in detail):  # FastAPI's 422
        return "; ".join(
            f"{'.'.join(str(part) for part in error.get('loc', []))}: {error.get('msg')}" for error in detail
        )
    return str(detail)


def call(client: "httpx.Client", method: str, path: str, **kwargs: Any) -> Any:
    """One request; any failure becomes a one-line error and a non-zero exit."""
    import httpx

    try:
        response = client.request(method, path, **kwargs)
    except httpx.HTTPError as failure:
        fail(f"cannot reach {client.base_url}: {failure}")
    if response.status_code >= 400:
        fail(f"HTTP {response.status_code}: {detail_of(response)}")
    return response.json()
