"""A server whose virtualenv lives under /tmp (a checkout there, as CI machines often have) still runs
tools: the call's private /tmp must not hide the interpreter it was started with."""

import subprocess
import sys
import tempfile
from pathlib import Path

from agentbatch.runtime.tools.sandbox import SandboxLimits, ToolSandbox


async def test_a_virtualenv_under_tmp_runs_tools_and_the_rest_of_tmp_stays_hidden() -> None:
    with tempfile.TemporaryDirectory(prefix="agentbatch-venv-", dir="/tmp") as parent:
        venv = Path(parent) / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)  # noqa: ASYNC221
        neighbour = Path(parent) / "secret.txt"
        neighbour.write_text("not for tools")
        sandbox = ToolSandbox(
            SandboxLimits(timeout_s=10.0, memory_mb=256), python=str(venv / "bin" / "python")
        )
        source = (
            "import os, sys\n"
            "def where(neighbour):\n"
            "    return {'prefix': sys.prefix, 'neighbour': os.path.exists(neighbour)}\n"
        )
        result = await sandbox.run(source, "where", {"neighbour": str(neighbour)})
    assert result.status == "success", result
    assert f'"prefix": "{venv}"' in result.return_value
    assert '"neighbour": false' in result.return_value
