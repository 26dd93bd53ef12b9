"""``agentbatch``: serve the API, run the emulator, run the demo."""

from pathlib import Path

import typer

from agentbatch.settings import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)


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
) -> None:
    """Run the Letta-compatible API."""
    from agentbatch.server import serve as run_server

    run_server(_settings(database_url, providers_file=providers_file), host, port)


@app.command("mock-llm")
def mock_llm(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8399),
    latency_ms: float = typer.Option(0.0, help="Added to every answer."),
    jitter_ms: float = typer.Option(0.0, help="Uniform random extra latency, up to this."),
    error_rate: float = typer.Option(0.0, help="Probability of a random 429/5xx per request."),
    seed: int = typer.Option(0, help="Seed of the random faults and jitter."),
    batch_delay_s: float = typer.Option(1.0, help="How long a provider batch stays in progress."),
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
    )
    run_emulator(config, host, port)


@app.command()
def demo(agents: int = typer.Option(200, min=1, help="How many agents the batch talks to.")) -> None:
    """Run a batch of agents on SQLite + the emulator, with live progress."""
    from rich.console import Console

    from agentbatch.cli.demo import run_demo

    run_demo(agents, Console())


def main() -> None:
    app()
