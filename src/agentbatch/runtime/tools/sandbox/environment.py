"""The environment a tool sees: built from nothing, so none of the server's variables leak in."""

from collections.abc import Mapping
from pathlib import Path

MINIMAL_PATH = "/usr/local/bin:/usr/bin:/bin"


class InvalidToolEnvironment(ValueError):
    """A variable that cannot be passed to a process (bad name or a NUL byte)."""


def tool_environment(
    workdir: Path | str, extra: Mapping[str, str] | None, *, tmpdir: Path | str | None = None
) -> dict[str, str]:
    """A minimal PATH, a UTF-8 locale, HOME (and TMPDIR unless given) in the call's own directory, plus
    ``extra``.

    ``extra`` (an agent's declared tool secrets) may override the defaults: it is the caller's choice.
    """
    env = {
        "PATH": MINIMAL_PATH,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": str(workdir),
        "TMPDIR": str(workdir if tmpdir is None else tmpdir),
    }
    for name, value in (extra or {}).items():
        if not isinstance(name, str) or not name or "=" in name or "\0" in name:
            raise InvalidToolEnvironment(f"invalid environment variable name {name!r}")
        if not isinstance(value, str) or "\0" in value:
            raise InvalidToolEnvironment(f"environment variable {name!r} must be a string without NUL bytes")
        env[name] = value
    return env
