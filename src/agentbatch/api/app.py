"""The FastAPI application: routes, error rendering, the body-size limit. Built by ``create_app``."""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI

from agentbatch import __version__
from agentbatch.api.body_limit import BodyLimitMiddleware
from agentbatch.api.errors import install_error_handlers
from agentbatch.api.routes import agent_changes, agent_files, agents, batches, blocks, health, tools
from agentbatch.api.services import ApiServices

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(services: ApiServices, lifespan: Lifespan | None = None) -> FastAPI:
    app = FastAPI(
        title="agentbatch",
        version=__version__,
        description="Batches of stateful LLM-agent turns behind Letta's Batches API.",
        redirect_slashes=False,
        lifespan=lifespan,
    )
    app.state.services = services
    install_error_handlers(app)
    for module in (health, agent_files, agents, agent_changes, blocks, tools, batches):
        app.include_router(module.router)
    app.add_middleware(BodyLimitMiddleware, max_bytes=services.settings.max_body_bytes)
    return app
