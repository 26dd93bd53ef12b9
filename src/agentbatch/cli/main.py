"""``agentbatch``: serve the API, run the emulator, run the demo, manage API keys."""

from pathlib import Path

import typer

from agentbatch import __version__
from agentbatch.cli import agents, batches
from agentbatch.cli.keys import keys_app
from agentbatch.cli.options import LOG_LEVEL_OPTION
from agentbatch.engine.log_format import configure_logging
from agentbatch.process_hardening import forbid_inspection
from agentbatch.settings import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
app.add_typer(keys_app, name="keys")


def _version(show: bool) -> None:
    if show:
        typer.echo(f"agentbatch {__version__}")
        raise typer.Exit()


@app.callback()
def _logging(
    log_level: str = LOG_LEVEL_OPTION,
    log_format: str = typer.Option(
        "kv", envvar="AGENTBATCH_LOG_FORMAT", help="kv (key=value pairs) or json (one object a line)."
    ),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print it."),
) -> None:
    forbid_inspection()  # every command (serve, worker, ...) holds secrets in its environment
    configure_logging(log_level, "json" if log_format == "json" else "kv")


def _settings(database_url: str | None, **overrides: object) -> Settings:
    values = {key: value for key, value in overrides.items() if value is not None}
    if database_url is not None:
        values["database_url"] = database_url
    return Settings(**values)  # type: ignore[arg-type]


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8283, help="Port (Letta's default)."),
    database_url: str | None = typer.Option(
        None, envvar="AGENTBATCH_DATABASE_URL", help="Default: sqlite:///./agentbatch.db"
    ),
    providers_file: Path | None = typer.Option(None, help="TOML file of extra OpenAI-compatible providers."),
    worker: bool = typer.Option(True, "--worker/--no-worker", help="Also run batches in this process."),
) -> None:
    """Run the Letta-compatible API (and, by default, a worker)."""
    from agentbatch.server import serve as run_server

    run_server(_settings(database_url, providers_file=providers_file, run_worker=worker), host, port)


@app.command("worker")
def worker_command(
    database_url: str | None = typer.Option(
        None, envvar="AGENTBATCH_DATABASE_URL", help="The database the API servers use."
    ),
    providers_file: Path | None = typer.Option(None, help="TOML file of extra OpenAI-compatible providers."),
    metrics_port: int | None = typer.Option(None, help="Serve this worker's Prometheus figures here."),
) -> None:
    """Run a worker alone: it claims and runs batch items from the shared database."""
    from agentbatch.server import run_worker

    run_worker(_settings(database_url, providers_file=providers_file), metrics_port)


@app.command("mock-llm")
def mock_llm(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8399),
    latency_ms: float = typer.Option(0.0, help="Added to every answer."),
    jitter_ms: float = typer.Option(0.0, help="Uniform random extra latency, up to this."),
    error_rate: float = typer.Option(0.0, help="Probability of a random 429/5xx per request."),
    seed: int = typer.Option(0, help="Seed of the random faults and jitter."),
    batch_delay_s: float = typer.Option(1.0, help="How long a provider batch stays in progress."),
    batch_queue_limit: int | None = typer.Option(
        None, help="Most requests in unfinished Anthropic batches; a create over it is a 429."
    ),
) -> None:
    """Run the deterministic OpenAI + Anthropic emulator (both batch APIs included)."""
    from agentbatch.emulator.config import EmulatorConfig
    from agentbatch.emulator.server import serve as run_emulator

    config = EmulatorConfig(
        latency_ms=latency_ms,
        jitter_ms=jitter_ms,
        error_rate=error_rate,
        seed=seed,
        batch_delay_s=batch_delay_s,
        batch_queue_limit=batch_queue_limit,
    )
    run_emulator(config, host, port)


@app.command()
def demo(agents: int = typer.Option(200, min=1, help="How many agents the batch talks to.")) -> None:
    """Run a batch of agents on SQLite + the emulator, with live progress."""
    from rich.console import Console

    from agentbatch.cli.demo import run_demo

    run_demo(agents, Console())


app.add_typer(batches.app, name="batches")
app.add_typer(agents.app, name="agents")


def main() -> None:
    app()
