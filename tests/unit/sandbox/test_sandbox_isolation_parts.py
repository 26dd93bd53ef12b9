"""The bubblewrap command line, the network declaration, the per-call uids and process hardening."""

import os
import subprocess
import sys
from pathlib import Path

from agentbatch.runtime.tools.sandbox import NETWORK_TAG, needs_network
from agentbatch.runtime.tools.sandbox.bwrap import BwrapPlan, bwrap_command
from agentbatch.runtime.tools.sandbox.identity import UidPool


def _plan(**overrides: object) -> BwrapPlan:
    values: dict[str, object] = {
        "executable": "/usr/bin/bwrap",
        "scratch": Path("/tmp/agentbatch-tool-x"),
        "network": False,
        "as_root": True,
        "interpreter_prefixes": (Path("/opt/python/3.11"), Path("/usr/local")),
    }
    values.update(overrides)
    return BwrapPlan(**values)  # type: ignore[arg-type]


def test_every_namespace_is_new_and_the_network_only_on_declaration() -> None:
    args = bwrap_command(_plan())
    for flag in ("--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net", "--die-with-parent"):
        assert flag in args
    assert "--new-session" in args and "--as-pid-1" in args
    assert "--unshare-net" not in bwrap_command(_plan(network=True))


def test_root_keeps_only_what_switching_uid_needs_and_others_get_a_user_namespace() -> None:
    as_root = bwrap_command(_plan())
    assert as_root.count("--cap-add") == 2 and "CAP_SETUID" in as_root and "CAP_SETGID" in as_root
    assert "--unshare-user" not in as_root
    unprivileged = bwrap_command(_plan(as_root=False))
    assert "--cap-add" not in unprivileged
    assert "--unshare-user" in unprivileged and "--disable-userns" in unprivileged


def test_only_the_scratch_directory_is_writable_and_no_server_path_is_bound() -> None:
    args = bwrap_command(_plan())
    writable = [args[i + 1] for i, arg in enumerate(args) if arg == "--bind"]
    assert writable == ["/tmp/agentbatch-tool-x"]
    assert os.getcwd() not in args
    assert args[args.index("/opt/python/3.11") - 1 : args.index("/opt/python/3.11") + 2] == [
        "--ro-bind",
        "/opt/python/3.11",
        "/opt/python/3.11",
    ]
    bound = [args[i + 1] for i, arg in enumerate(args) if arg in ("--bind", "--ro-bind")]
    assert "/" not in bound
    assert "/usr/local" not in bound  # already there with /usr


def test_a_tool_declares_it_needs_the_network_by_a_tag() -> None:
    assert NETWORK_TAG == "sandbox:network"
    assert needs_network(["weather", "sandbox:network"])
    assert not needs_network(["weather", "network"])


def test_calls_in_flight_never_share_a_uid() -> None:
    pool = UidPool(1_800_000_000)
    with pool.lease() as first, pool.lease() as second:
        assert first != second and first >= 1_800_000_000 and second >= 1_800_000_000


def test_a_hardened_process_is_not_dumpable() -> None:
    code = (
        "from agentbatch.process_hardening import forbid_inspection, is_dumpable\n"
        "before = is_dumpable()\n"
        "print(before, forbid_inspection(), is_dumpable())\n"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.split() == ["True", "True", "False"]


def test_every_cli_command_hardens_its_process() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from agentbatch.cli.main import app\n"
        "from agentbatch.process_hardening import is_dumpable\n"
        "CliRunner().invoke(app, ['serve', '--help'])\n"
        "print(is_dumpable())\n"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.split()[-1] == "False"
