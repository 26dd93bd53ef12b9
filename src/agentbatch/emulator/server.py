"""Running the emulator: blocking in the foreground, or in a background thread for tests."""

import importlib.util
import socket
import threading
import time
from types import TracebackType
from typing import Self

import uvicorn

from agentbatch.emulator.app import EmulatorApp, create_app
from agentbatch.emulator.config import EmulatorConfig

_START_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 10.0
_GRACEFUL_SHUTDOWN_S = 5


def uvicorn_config(app: EmulatorApp, host: str, port: int) -> uvicorn.Config:
    """uvloop + httptools when installed, one worker, no access log: the cheapest way to serve."""
    has_uvloop = importlib.util.find_spec("uvloop") is not None
    has_httptools = importlib.util.find_spec("httptools") is not None
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop" if has_uvloop else "asyncio",
        http="httptools" if has_httptools else "h11",
        access_log=False,
        log_level="warning",
        lifespan="off",
        workers=1,
        timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_S,
    )


def serve(config: EmulatorConfig, host: str, port: int) -> None:
    """Serve the emulator on ``host:port`` until interrupted (Ctrl-C / SIGTERM)."""
    uvicorn.Server(uvicorn_config(create_app(config), host, port)).run()


class EmulatorThread:
    """The emulator served from a background thread with its own event loop.

    ``with EmulatorThread(EmulatorConfig()) as emulator: ... emulator.base_url ...``; ``port=0``
    picks a free port. Entering returns once the server accepts connections; leaving stops it.
    """

    def __init__(self, config: EmulatorConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        self.host = host
        self.app = create_app(config)
        self._socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self._requested_port = port
        self._port: int | None = None
        self._server = uvicorn.Server(uvicorn_config(self.app, host, port))
        self._thread = threading.Thread(target=self._run, name="agentbatch-emulator", daemon=True)
        self._error: BaseException | None = None

    @property
    def port(self) -> int:
        """The port served on (the one picked when ``port=0`` was asked for); known once started."""
        if self._port is None:
            raise RuntimeError("the emulator has not been started")
        return self._port

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((self.host, self._requested_port))
        self._port = int(self._socket.getsockname()[1])
        self._socket.listen(2048)
        self._thread.start()
        self._wait_until_accepting()

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(_STOP_TIMEOUT_S)
        self._socket.close()

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._socket])
        except BaseException as error:  # reported by _wait_until_accepting
            self._error = error

    def _wait_until_accepting(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._error is not None or not self._thread.is_alive():
                self.stop()
                raise RuntimeError("the emulator thread stopped while starting") from self._error
            if self._server.started and _accepts(self.host, self.port):
                return
            time.sleep(0.01)
        self.stop()
        raise TimeoutError(f"the emulator did not accept connections within {_START_TIMEOUT_S} s")


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False
