"""A callback endpoint for tests: records every POST and answers with scripted status codes."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class CallbackReceiver:
    def __init__(self, statuses: list[int] | None = None) -> None:
        """``statuses`` are answered in turn; once used up, every further POST gets 200."""
        self.received: list[dict[str, Any]] = []
        self.raw: list[tuple[dict[str, str], bytes]] = []
        self._statuses = list(statuses or [])
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["content-length"]))
                with receiver._lock:
                    receiver.received.append(json.loads(raw))
                    receiver.raw.append((dict(self.headers.items()), raw))
                    status = receiver._statuses.pop(0) if receiver._statuses else 200
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/batch-done"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def answer(self, statuses: list[int]) -> None:
        """From now on answer with ``statuses`` in turn (then 200)."""
        with self._lock:
            self._statuses = list(statuses)

    def __enter__(self) -> "CallbackReceiver":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
