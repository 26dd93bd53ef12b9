"""Options every ``agentbatch`` command shares."""

import typer

from agentbatch.engine.log_format import configure_logging

LOG_LEVEL_OPTION = typer.Option("info", envvar="AGENTBATCH_LOG_LEVEL", help="debug, info, warning, error.")
LOG_FORMAT_OPTION = typer.Option(
    "kv", envvar="AGENTBATCH_LOG_FORMAT", help="kv (key=value pairs) or json (one object a line)."
)


def apply_log_level(level: str | None, log_format: str = "kv") -> None:
    """A subcommand's own ``--log-level`` overrides the one given before it."""
    if level is not None:
        configure_logging(level, "json" if log_format == "json" else "kv")
