"""The FastAPI application: routes, error rendering, the body-size limit. Built by ``create_app``."""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import Depends, FastAPI

from agentbatch import __version__
from agentbatch.api.auth import KeyRing
from agentbatch.api.body_limit import BodyLimitMiddleware
from agentbatch.api.errors import DOCUMENTED_ERRORS, install_error_handlers
from agentbatch.api.large_bodies import LargeBodyMiddleware
from agentbatch.api.routes import (
    agent_changes,
    agent_files,
    agents,
    batches,
    blocks,
    callbacks,
    dashboard,
    health,
    metrics,
    results,
    tools,
)
from agentbatch.api.services import ApiServices
from agentbatch.api.storable_input import install_validation_error_rendering, reject_unstorable_input

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(services: ApiServices, lifespan: Lifespan | None = None) -> FastAPI:
    app = FastAPI(
        title="agentbatch",
        version=__version__,
        description="Batches of stateful LLM-agent turns behind Letta's Batches API.",
        redirect_slashes=False,
        lifespan=lifespan,
        dependencies=[Depends(reject_unstorable_input)],
    )
    app.state.services = services
    app.state.key_ring = KeyRing(services.db, services.settings.api_key_list)
    install_error_handlers(app)
    install_validation_error_rendering(app)
    for module in (
        health,
        agent_files,
        agents,
        agent_changes,
        blocks,
        tools,
        batches,
        results,
        callbacks,
        metrics,
        dashboard,
    ):
        app.include_router(module.router, responses=DOCUMENTED_ERRORS)
    app.add_middleware(LargeBodyMiddleware)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=services.settings.max_body_bytes,
        read_timeout_s=services.settings.body_read_timeout_s,
    )
    return app
