"""A server that is not root gets the same sandbox, through an unprivileged user namespace.

The rest of the suite runs as root here (as CI does), where bubblewrap runs privileged and the tool
switches to a uid of its own. This test runs a small server-side script as ``nobody`` with the system
interpreter (the test's own interpreter may live where ``nobody`` cannot enter).
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import agentbatch

SYSTEM_PYTHON = "/usr/bin/python3"
SOURCE_ROOT = Path(agentbatch.__file__).resolve().parent.parent

SERVER_SIDE = """
import asyncio, json, sys
sys.path.insert(0, sys.argv[1])
from agentbatch.runtime.tools.sandbox import SandboxIsolation, SandboxLimits, ToolSandbox

TOOL = '''
import os
def f():
    started = 0
    for _ in range(100):
        try:
            if os.fork() == 0:
                import time
                time.sleep(20)
                os._exit(0)
        except OSError:
            break
        started += 1
    visible = [p for p in os.listdir('/proc') if p.isdigit()]
    return {'uid': os.getuid(), 'started': started, 'visible': len(visible), 'cwd': os.getcwd()}
'''

async def main():
    sandbox = ToolSandbox(SandboxLimits(timeout_s=10), python=sys.executable,
                          isolation=SandboxIsolation(max_processes=16))
    problem = await sandbox.isolation_problem()
    result = await sandbox.run(TOOL, 'f', {})
    print(json.dumps({'problem': problem, 'status': result.status, 'value': result.return_value}))

asyncio.run(main())
"""


def _usable() -> str | None:
    if os.geteuid() != 0:
        return "needs root to start a process as nobody"
    if shutil.which("setpriv") is None or not os.access(SYSTEM_PYTHON, os.X_OK):
        return "needs setpriv and a system python3"
    check = "import sys; print(sys.version_info >= (3, 11))"
    version = subprocess.run([SYSTEM_PYTHON, "-c", check], capture_output=True, text=True)
    if version.stdout.strip() != "True":
        return "the system python3 is older than 3.11"
    if not all(os.stat(path).st_mode & 0o005 == 0o005 for path in [SOURCE_ROOT, *SOURCE_ROOT.parents]):
        return "the source tree is not readable by nobody"
    return None


def test_as_an_unprivileged_user_the_server_gets_namespaces_and_a_bounded_process_count() -> None:
    reason = _usable()
    if reason is not None:
        pytest.skip(reason)
    as_nobody = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
    completed = subprocess.run(
        [*as_nobody, SYSTEM_PYTHON, "-I", "-c", SERVER_SIDE, str(SOURCE_ROOT)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert report["problem"] is None and report["status"] == "success", report
    seen = json.loads(report["value"])
    assert seen["uid"] == 65534 and seen["cwd"] == "/scratch"
    assert seen["started"] < 16  # RLIMIT_NPROC binds for the unprivileged user in its namespace
    assert seen["visible"] <= 16  # only the call's own processes
