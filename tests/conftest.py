"""Fixtures shared by every tier: one ``database_url`` over SQLite and PostgreSQL."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import PostgresTemplate, postgres_reachable


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[PostgresTemplate | None]:
    if not postgres_reachable():
        yield None
        return
    template = PostgresTemplate()
    template.create()
    yield template
    template.destroy()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_template: PostgresTemplate | None
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'agentbatch.db'}"
        return
    if postgres_template is None:
        pytest.skip("PostgreSQL is not reachable")
    url = postgres_template.clone()
    yield url
    postgres_template.drop(url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'agentbatch.db'}"
