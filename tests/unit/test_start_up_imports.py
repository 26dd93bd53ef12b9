"""What `agentbatch serve` loads before it is ready: neither provider SDK (the provider processes load
them when work comes) nor an HTTP client (the CLI's and the callbacks' are loaded when first used).
Each would add tenths of a second to start-up and tens of MiB to an idle server (decision 0011)."""

import subprocess
import sys

NOT_AT_START = ("openai", "anthropic", "httpx", "rich", "alembic")


def test_serve_starts_without_loading_an_sdk_or_an_http_client() -> None:
    probe = (
        "import sys, agentbatch.cli.main, agentbatch.server;"
        f"print(' '.join(name for name in {NOT_AT_START!r} if name in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)

    assert loaded.stdout.split() == []
