"""``agentbatch keys`` refusing bad arguments before touching anything, reporting what it did, and the
shared ``--log-level`` option."""

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from agentbatch.cli.main import app
from agentbatch.cli.options import apply_log_level

runner = CliRunner()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'keys.db'}"


def _keys(database_url: str, *args: str) -> Result:
    return runner.invoke(app, ["keys", *args, "--database-url", database_url])


def _created(result: Result) -> dict[str, str]:
    assert result.exit_code == 0, result.output
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in result.stdout.splitlines())}


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--tenant", "bob"], "a tenant id looks like user-<uuid4>"),
        (["--tenant", "agent-00000000-0000-4000-8000-000000000000"], "a tenant id looks like user-<uuid4>"),
        (["--name", ""], "a name has 1 to 255 characters"),
        (["--name", "n" * 256], "a name has 1 to 255 characters"),
    ],
)
def test_create_refuses_a_bad_tenant_or_name_and_creates_nothing(
    database_url: str, tmp_path: Path, args: list[str], problem: str
) -> None:
    refused = _keys(database_url, "create", *args)
    assert refused.exit_code == 2 and problem in refused.output
    assert not (tmp_path / "keys.db").exists()


def test_create_prints_the_key_once_with_its_tenant(database_url: str) -> None:
    created = _created(_keys(database_url, "create", "--name", "ci"))
    assert re.fullmatch(r"key-[0-9a-f-]{36}", created["id"])
    assert created["tenant"].startswith("user-") and created["name"] == "ci"
    assert created["api key"].startswith("ab-")
    listed = _keys(database_url, "list")
    assert created["api key"] not in listed.stdout and created["id"] in listed.stdout


def test_a_second_key_for_a_tenant_shares_it(database_url: str) -> None:
    first = _created(_keys(database_url, "create"))
    second = _created(_keys(database_url, "create", "--tenant", first["tenant"]))
    assert second["tenant"] == first["tenant"] and second["api key"] != first["api key"]


def test_a_revoked_key_leaves_the_list_but_not_the_full_list(database_url: str) -> None:
    key = _created(_keys(database_url, "create", "--name", "old"))
    revoked = _keys(database_url, "revoke", key["id"])
    assert revoked.exit_code == 0
    assert f"revoked {key['id']} (tenant {key['tenant']})" in revoked.stdout
    assert key["id"] not in _keys(database_url, "list").stdout
    full = _keys(database_url, "list", "--all").stdout
    assert key["id"] in full and "revoked 20" in full


def test_revoking_an_unknown_key_exits_1_saying_so(database_url: str) -> None:
    missing = _keys(database_url, "revoke", "key-00000000-0000-4000-8000-000000000000")
    assert missing.exit_code == 1
    assert "no key has the id key-00000000-0000-4000-8000-000000000000" in missing.stderr


@pytest.fixture
def root_logging() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_subcommands_log_level_sets_the_root_level(root_logging: logging.Logger) -> None:
    apply_log_level("warning")
    assert root_logging.level == logging.WARNING
    apply_log_level("debug", "json")
    assert root_logging.level == logging.DEBUG


def test_no_subcommand_log_level_leaves_logging_alone(root_logging: logging.Logger) -> None:
    root_logging.setLevel(logging.ERROR)
    before = list(root_logging.handlers)
    apply_log_level(None)
    assert root_logging.level == logging.ERROR and root_logging.handlers == before
