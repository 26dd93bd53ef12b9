"""agentbatch as real processes (``python -m agentbatch …``), for tests that kill and restart them."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from types import TracebackType

import httpx

from tests.support.polling import wait_for


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class AgentbatchProcess:
    """One ``agentbatch`` command; ``port`` set means it serves HTTP and is ready when healthy."""

    def __init__(
        self,
        args: list[str],
        env: dict[str, str],
        log_path: Path,
        port: int | None = None,
        *,
        prefix: list[str] | None = None,
        host: str = "127.0.0.1",
        start_timeout: float = 180,
    ) -> None:
        self.start_timeout = start_timeout  # a busy CI box can take a minute to import and migrate
        self.args = args
        self.prefix = prefix or []  # e.g. ``ip netns exec HOST``: run it on another (test) machine
        self.host = host
        self.env = {**os.environ, **env}
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "AgentbatchProcess":
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [*self.prefix, sys.executable, "-m", "agentbatch", *self.args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        if self.port is not None:
            wait_for(
                self._healthy,
                timeout=self.start_timeout,
                what=f"{self.args[0]} to answer on port {self.port}",
            )
        return self

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"agentbatch exited early:\n{self.log_path.read_text()[-3000:]}")
        try:
            return httpx.get(f"{self.base_url}/v1/health/", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill_hard(self) -> None:
        """kill -9: no shutdown code runs, leases stay as they were."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)

    def __enter__(self) -> "AgentbatchProcess":
        return self.start()

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
