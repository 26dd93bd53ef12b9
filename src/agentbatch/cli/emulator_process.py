"""The emulator as a child process (its own core), for the demo and benchmarks."""

import socket
import subprocess
import sys
import time
from types import TracebackType

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class EmulatorProcess:
    def __init__(self, *, latency_ms: float = 0, jitter_ms: float = 0, batch_delay_s: float = 1.0) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._args = [sys.executable, "-m", "agentbatch.emulator", "--port", str(self.port)]
        self._args += ["--latency-ms", str(latency_ms), "--jitter-ms", str(jitter_ms)]
        self._args += ["--batch-delay-s", str(batch_delay_s)]
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "EmulatorProcess":
        self._process = subprocess.Popen(self._args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.base_url}/_emulator/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start")
            time.sleep(0.05)

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def sdk_environment(self) -> dict[str, str]:
        """The SDKs' own variables, pointed at the emulator."""
        return {
            "OPENAI_BASE_URL": f"{self.base_url}/v1",
            "OPENAI_API_KEY": "emulated",
            "ANTHROPIC_BASE_URL": self.base_url,
            "ANTHROPIC_API_KEY": "emulated",
        }
