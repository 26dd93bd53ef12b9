"""The composition root: builds the database, engine, runtime and API from one ``Settings``."""

import asyncio
import logging
import signal
import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import uvicorn
from fastapi import FastAPI
from prometheus_client import start_http_server

from agentbatch.api.app import create_app
from agentbatch.api.services import ApiServices
from agentbatch.engine.host import EngineHost
from agentbatch.engine.metrics import REGISTRY
from agentbatch.performance import EVENT_LOOP_FACTORY, UVICORN_LOOP, tune_garbage_collector
from agentbatch.providers.catalog import ProviderCatalog
from agentbatch.runtime.tools.base_tools import builtin_tools
from agentbatch.settings import Settings
from agentbatch.store.database import Database
from agentbatch.store.migrate import upgrade
from agentbatch.store.tools import sync_builtin_tools

log = logging.getLogger("agentbatch.server")


async def prepare_database(db: Database) -> None:
    """Migrate to the newest schema and refresh the shared base tools. Idempotent."""
    await upgrade(db)
    async with db.write() as conn:
        await sync_builtin_tools(conn, builtin_tools(), datetime.now(UTC))


def build_app(settings: Settings) -> FastAPI:
    db = Database(settings.database_url)
    engine = EngineHost(settings, db, run_worker=settings.run_worker)
    services = ApiServices(
        settings=settings, db=db, agents=engine.agents, batches=engine.batches, turns=engine.turns
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await prepare_database(db)
        await engine.start()
        tune_garbage_collector()
        try:
            yield
        finally:
            await engine.stop()
            await db.dispose()

    return create_app(services, lifespan)


def uvicorn_config(app: FastAPI, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app, host=host, port=port, loop=UVICORN_LOOP, http="httptools", log_level="warning", access_log=False
    )


def run_worker(settings: Settings, metrics_port: int | None = None) -> None:
    """A worker process without the API (``agentbatch worker``); stops cleanly on SIGINT/SIGTERM.
    With ``metrics_port``, its Prometheus figures are served at ``http://…:<port>/metrics``."""
    with asyncio.Runner(loop_factory=EVENT_LOOP_FACTORY) as runner:
        runner.run(_worker_main(settings, metrics_port))


async def _worker_main(settings: Settings, metrics_port: int | None) -> None:
    db = Database(settings.database_url)
    await prepare_database(db)
    engine = EngineHost(settings, db, run_worker=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await engine.start()
    tune_garbage_collector()
    if metrics_port is not None:
        start_http_server(metrics_port, registry=REGISTRY)
    log.info(
        "worker running database=%s providers=%s metrics=%s",
        database_for_humans(settings.database_url),
        ",".join(engine.catalog.names),
        f"http://0.0.0.0:{metrics_port}/metrics" if metrics_port is not None else "off",
    )
    try:
        await stop.wait()
    finally:
        await engine.stop()
        await db.dispose()


def database_for_humans(url: str) -> str:
    """The database URL with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def announce_start(settings: Settings, url: str, *, worker: bool) -> None:
    """The line that tells an operator the server is ready, and what it is."""
    log.info(
        "listening on %s database=%s providers=%s worker=%s",
        url,
        database_for_humans(settings.database_url),
        ",".join(ProviderCatalog.from_file(settings.providers_file).names),
        "yes" if worker else "no (API only)",
    )


class AnnouncingServer(uvicorn.Server):
    """uvicorn's server that logs the start line once its socket is listening."""

    def __init__(self, config: uvicorn.Config, settings: Settings) -> None:
        super().__init__(config)
        self._settings = settings

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.servers:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            announce_start(self._settings, f"http://{host}:{port}", worker=self._settings.run_worker)


def serve(settings: Settings, host: str, port: int) -> None:
    AnnouncingServer(uvicorn_config(build_app(settings), host, port), settings).run()


class ServerThread:
    """The full server on a real socket in a background thread (tests, the demo, benchmarks)."""

    def __init__(self, settings: Settings, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = uvicorn.Server(uvicorn_config(build_app(settings), host, port))
        self._thread = threading.Thread(target=self._server.run, name="agentbatch-server", daemon=True)
        self.base_url = ""

    def __enter__(self) -> "ServerThread":
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the agentbatch server did not start")
            time.sleep(0.01)
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        self.base_url = f"http://{host}:{port}"
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
