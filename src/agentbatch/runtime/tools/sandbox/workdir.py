"""The fresh, private working directory of one tool call, and its thorough removal."""

import contextlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

PREFIX = "agentbatch-tool-"


def make_workdir() -> Path:
    """An empty directory only the server's user can enter (mode 0700)."""
    return Path(tempfile.mkdtemp(prefix=PREFIX))


def remove_workdir(path: Path) -> None:
    """Remove the directory and everything in it, even subdirectories the tool made unreadable.

    Failure is logged, not raised: a leftover temporary directory must not fail the call.
    """
    try:
        shutil.rmtree(path)
        return
    except FileNotFoundError:
        return
    except OSError:
        _make_traversable(path)
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        logger.warning("could not remove the tool working directory %s: %s", path, exc)


def _make_traversable(root: Path) -> None:
    """Give the owner back rwx on every directory, top-down so ``os.walk`` can descend. Symlinks are
    skipped: ``chmod`` would follow them out of the directory."""
    _chmod_dir(str(root))
    for parent, dirs, _ in os.walk(root):
        for name in dirs:
            _chmod_dir(os.path.join(parent, name))


def _chmod_dir(path: str) -> None:
    if os.path.islink(path):
        return
    with contextlib.suppress(OSError):
        os.chmod(path, 0o700)
