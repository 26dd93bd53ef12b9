"""Fail when a module grows past the size at which it should be split by what it owns."""

import sys
from pathlib import Path


def main() -> int:
    root, limit = Path(sys.argv[1]), int(sys.argv[2])
    too_big = [
        (path, count)
        for path in sorted(root.rglob("*.py"))
        if "migrations/versions" not in path.as_posix()
        and (count := len(path.read_text().splitlines())) > limit
    ]
    for path, count in too_big:
        print(f"{path}: {count} lines (limit {limit}); split it by concept")
    return 1 if too_big else 0


if __name__ == "__main__":
    raise SystemExit(main())
