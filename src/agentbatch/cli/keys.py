"""``agentbatch keys``: create, list and revoke tenants' API keys, directly in the server's database.

Works on the database named by ``AGENTBATCH_DATABASE_URL`` (or ``--database-url``), as ``serve`` does,
and migrates it first. Running servers see a new or revoked key within ``api.auth.KEY_REFRESH_S``.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import typer

from agentbatch.api.auth import KEY_REFRESH_S
from agentbatch.domain.api_keys import ApiKey, key_digest, new_secret
from agentbatch.domain.ids import IdPrefix, is_valid_id, new_id
from agentbatch.settings import DEFAULT_DATABASE_URL
from agentbatch.store import api_keys as key_store
from agentbatch.store.database import Connection, Database
from agentbatch.store.migrate import upgrade

keys_app = typer.Typer(
    no_args_is_help=True,
    help="Create, list and revoke API keys in the database the servers use (AGENTBATCH_DATABASE_URL).",
)
T = TypeVar("T")

DatabaseUrl = typer.Option(
    DEFAULT_DATABASE_URL, envvar="AGENTBATCH_DATABASE_URL", help="The database the servers use."
)


def _in_database(url: str, work: Callable[[Connection], Awaitable[T]]) -> T:
    async def run() -> T:
        db = Database(url)
        try:
            await upgrade(db)
            async with db.write() as conn:
                return await work(conn)
        finally:
            await db.dispose()

    return asyncio.run(run())


@keys_app.command("create")
def create(
    name: str | None = typer.Option(None, "--name", help="A label for the key (who or what uses it)."),
    tenant: str | None = typer.Option(
        None, "--tenant", help="Give an existing tenant (user-<uuid4>) another key; default: a new tenant."
    ),
    database_url: str = DatabaseUrl,
) -> None:
    """Create a key (and, unless --tenant is given, a new tenant). The key is printed once."""
    if tenant is not None and not is_valid_id(tenant, IdPrefix.USER):
        raise typer.BadParameter("a tenant id looks like user-<uuid4>", param_hint="--tenant")
    if name is not None and not 0 < len(name) <= 255:
        raise typer.BadParameter("a name has 1 to 255 characters", param_hint="--name")
    secret = new_secret()
    key = ApiKey(
        id=new_id(IdPrefix.API_KEY),
        tenant_id=tenant or new_id(IdPrefix.USER),
        name=name,
        created_at=datetime.now(UTC),
    )

    async def insert(conn: Connection) -> None:
        await key_store.insert_key(conn, key, key_digest(secret))

    _in_database(database_url, insert)
    typer.echo(f"id:      {key.id}\ntenant:  {key.tenant_id}\nname:    {key.name or ''}")
    typer.echo(f"api key: {secret}")
    typer.echo("Store the key now: it is not shown again (the database keeps only its SHA-256).", err=True)


@keys_app.command("list")
def list_keys(
    include_revoked: bool = typer.Option(False, "--all", help="Include revoked keys."),
    database_url: str = DatabaseUrl,
) -> None:
    """List keys: id, tenant, name, created and (with --all) revoked times. Keys themselves are not kept."""

    async def fetch(conn: Connection) -> list[ApiKey]:
        return await key_store.list_keys(conn, include_revoked=include_revoked)

    for key in _in_database(database_url, fetch):
        revoked = f"revoked {key.revoked_at:%Y-%m-%d %H:%M:%S}" if key.revoked_at else "active"
        created = f"{key.created_at:%Y-%m-%d %H:%M:%S}"
        typer.echo(f"{key.id}  {key.tenant_id}  {created}  {revoked}  {key.name or ''}")


@keys_app.command("revoke")
def revoke(
    key_id: str = typer.Argument(..., help="The key's id (key-<uuid4>), as `keys list` shows it."),
    database_url: str = DatabaseUrl,
) -> None:
    """Revoke a key: servers refuse it (401) from then on. Its tenant's data stays."""

    async def mark(conn: Connection) -> ApiKey | None:
        return await key_store.revoke_key(conn, key_id, datetime.now(UTC))

    key = _in_database(database_url, mark)
    if key is None:
        typer.echo(f"no key has the id {key_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key.id} (tenant {key.tenant_id}); servers refuse it within {KEY_REFRESH_S:g} s")
