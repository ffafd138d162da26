"""A lock file at the tree root that serialises concurrent scaffold runs.

An ``O_EXCL``-created file rather than ``flock``: it is removed when released,
so it never shows up in the user's ``git status``.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from scaffold.errors import ScaffoldError

LOCK_NAME = ".scaffold.lock"


def _holder_is_gone(lock: Path) -> bool:
    """True when the lock names a process that no longer exists."""
    try:
        pid = int(lock.read_text().strip() or "0")
    except (OSError, ValueError):
        return False  # being written right now, or unreadable: not stale
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@contextlib.contextmanager
def tree_lock(root: Path, timeout: float = 60.0) -> Iterator[None]:
    """Hold ``root/.scaffold.lock`` for the duration of the block."""
    lock = root / LOCK_NAME
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            break
        except FileExistsError:
            if _holder_is_gone(lock):
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()
                continue
            if time.monotonic() > deadline:
                raise ScaffoldError(
                    "another scaffold run holds this lock (remove it if no run "
                    "is active)",
                    path=str(lock),
                ) from None
            time.sleep(0.02)
    try:
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()
