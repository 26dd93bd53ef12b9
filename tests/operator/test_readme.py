"""The README's Python snippets run as written against a server and the emulator."""

import contextlib
import io
import re
from pathlib import Path

import pytest

from agentbatch.emulator.server import EmulatorThread
from agentbatch.server import ServerThread
from tests.acceptance.conftest import live_settings
from tests.support.live import point_sdks_at

README = Path(__file__).resolve().parents[2] / "README.md"
README_URL = "http://127.0.0.1:8283"


def python_snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_the_readme_has_python_snippets() -> None:
    assert python_snippets()


@pytest.mark.parametrize("index", range(len(python_snippets())))
def test_a_readme_snippet_runs_and_prints_a_finished_conversation(
    index: int, sqlite_url: str, emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    snippet = python_snippets()[index]
    point_sdks_at(monkeypatch, emulator)
    with ServerThread(live_settings(sqlite_url)) as server:
        assert README_URL in snippet, "snippets talk to the README's server address"
        code = compile(snippet.replace(README_URL, server.base_url), f"README.md snippet {index}", "exec")
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(code, {"__name__": "__readme__"})

    output = printed.getvalue()
    assert output.startswith("completed {"), output
    assert "'succeeded': 1" in output.splitlines()[0]
    roles = [line.split(" ", 1)[0] for line in output.splitlines()[1:]]
    assert "user" in roles and "assistant" in roles, output
