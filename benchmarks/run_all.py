"""`make bench`: every benchmark script once, at a size that keeps the whole run to minutes, each printing
its own table (with its baseline, measured in the same run). The README's figures come from the larger
sizes named in each script's docstring.

    .venv/bin/python benchmarks/run_all.py [--only NAME[,NAME…]] [--list]
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

QUICK_RUNS: dict[str, list[str]] = {
    "emulator_throughput": ["--seconds", "2"],
    "provider_call_cpu": ["--seconds", "2"],
    "turn_request_cost": ["--requests", "20000"],
    "accept_large_batch": ["--requests", "20000", "--agents", "500"],
    "overhead": ["--agents", "2000", "--requests", "20000"],
    "engine_throughput": ["--agents", "1000", "--scenarios", "sqlite,latency", "--latency-agents", "256"],
    "sync_send_wait": ["--sends", "8"],
    "tool_call_cost": ["--calls", "20"],
    "lane_vs_direct": ["--agents", "100"],
    "lane_memory": ["--requests", "5000"],
    "postgres_capacity": ["--agents", "200", "--workers", "1,2"],
}
"""Script name → its arguments for the quick run, in the order they run."""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", help="comma-separated script names (without .py)")
    parser.add_argument("--list", action="store_true", help="print the scripts and their quick arguments")
    args = parser.parse_args()
    chosen = list(QUICK_RUNS) if not args.only else [name.strip() for name in args.only.split(",")]
    unknown = [name for name in chosen if name not in QUICK_RUNS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(QUICK_RUNS)}")
    if args.list:
        for name in chosen:
            print(name, " ".join(QUICK_RUNS[name]))
        return 0
    failed: list[str] = []
    for name in chosen:
        command = [sys.executable, str(HERE / f"{name}.py"), *QUICK_RUNS[name]]
        print(f"\n=== {name} {' '.join(QUICK_RUNS[name])}", flush=True)
        started = time.monotonic()
        status = subprocess.run(command, check=False).returncode
        print(f"=== {name}: exit {status} after {time.monotonic() - started:.0f} s", flush=True)
        if status != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
