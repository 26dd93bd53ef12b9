"""The emulator's ASGI application: a two-entry dispatcher in front of Starlette."""

from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from agentbatch.emulator.config import EmulatorConfig
from agentbatch.emulator.hot_path import ModelEndpoint
from agentbatch.emulator.routes_anthropic import AnthropicRoutes
from agentbatch.emulator.routes_misc import http_error, misc_routes
from agentbatch.emulator.routes_openai import OpenAIRoutes
from agentbatch.emulator.state import EmulatorState

CHAT_COMPLETIONS = "POST /v1/chat/completions"
MESSAGES = "POST /v1/messages"


class EmulatorApp:
    """``POST /v1/chat/completions`` and ``POST /v1/messages`` go straight to bare ASGI handlers;
    every other request goes through Starlette routing."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.state = EmulatorState.create(config)
        self._hot = {
            ("POST", "/v1/chat/completions"): ModelEndpoint(
                CHAT_COMPLETIONS, self.state.openai, self.state.stats
            ),
            ("POST", "/v1/messages"): ModelEndpoint(MESSAGES, self.state.anthropic, self.state.stats),
        }
        routes = [
            *OpenAIRoutes(self.state.files, self.state.openai_batches).routes(),
            *AnthropicRoutes(self.state.anthropic_batches).routes(),
            *misc_routes(self.state),
        ]
        self._rest = Starlette(routes=routes, exception_handlers={404: http_error, 405: http_error})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            handler = self._hot.get((scope["method"], scope["path"]))
            if handler is not None:
                await handler(scope, receive, send)
                return
        await self._rest(scope, receive, send)


def create_app(config: EmulatorConfig) -> EmulatorApp:
    """The emulator as an ASGI app (serve it with uvicorn, or call it through httpx.ASGITransport)."""
    return EmulatorApp(config)
