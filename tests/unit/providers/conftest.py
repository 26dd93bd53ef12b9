"""Shared builders for the provider tests: a providers file written into the test's temporary folder."""

from collections.abc import Callable
from pathlib import Path

import pytest

ProvidersFile = Callable[[str], Path]


@pytest.fixture
def providers_file(tmp_path: Path) -> ProvidersFile:
    """Write TOML text to a providers file and return its path."""

    def write(text: str) -> Path:
        path = tmp_path / "providers.toml"
        path.write_text(text)
        return path

    return write
