"""The emulator as a child process on a fixed address, so a test can take the provider away (kill it),
freeze it (SIGSTOP: connections accepted, never answered) and bring it back on the same port."""

import signal
import subprocess
import sys
from pathlib import Path
from types import TracebackType

import httpx

from tests.support.polling import wait_for
from tests.support.processes import free_port


class EmulatorChild:
    def __init__(
        self,
        log_path: Path,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        error_rate: float = 0.0,
        latency_ms: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.host = host
        self.port = port or free_port()
        self.log_path = log_path
        self._args = [sys.executable, "-m", "agentbatch.emulator", "--host", host, "--port", str(self.port)]
        self._args += ["--error-rate", str(error_rate), "--latency-ms", str(latency_ms), "--seed", str(seed)]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def sdk_environment(self) -> dict[str, str]:
        return {
            "OPENAI_BASE_URL": f"{self.base_url}/v1",
            "OPENAI_API_KEY": "test-openai-key",
            "ANTHROPIC_BASE_URL": self.base_url,
            "ANTHROPIC_API_KEY": "test-anthropic-key",
        }

    def start(self) -> "EmulatorChild":
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(self._args, stdout=log, stderr=subprocess.STDOUT)
        wait_for(self._healthy, timeout=60, what=f"the emulator on port {self.port}")
        return self

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the emulator exited:\n{self.log_path.read_text()[-2000:]}")
        try:
            return httpx.get(f"{self.base_url}/_emulator/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """The provider is gone: connections are refused until ``start`` again."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def freeze(self) -> None:
        """The provider hangs: its socket still accepts, nothing is answered."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def model_calls(self) -> dict[str, int]:
        """Chat-completion requests this emulator process answered, by status."""
        stats = httpx.get(f"{self.base_url}/_emulator/stats", timeout=10).json()
        return {str(k): int(v) for k, v in stats["requests"].get("POST /v1/chat/completions", {}).items()}

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.thaw()
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def __enter__(self) -> "EmulatorChild":
        return self.start()

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
