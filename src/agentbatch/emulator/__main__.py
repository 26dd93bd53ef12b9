"""``python -m agentbatch.emulator``: the emulator without the agentbatch CLI (used by the benchmark)."""

import argparse

from agentbatch.emulator.config import EmulatorConfig
from agentbatch.emulator.server import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m agentbatch.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8399)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--jitter-ms", type=float, default=0.0)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-delay-s", type=float, default=1.0)
    parser.add_argument("--batch-queue-limit", type=int, default=None)
    args = parser.parse_args(argv)
    config = EmulatorConfig(
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        error_rate=args.error_rate,
        seed=args.seed,
        batch_delay_s=args.batch_delay_s,
        batch_queue_limit=args.batch_queue_limit,
    )
    serve(config, args.host, args.port)


if __name__ == "__main__":
    main()
