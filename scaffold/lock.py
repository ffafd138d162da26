"""A kernel lock on the tree root that serialises concurrent scaffold runs.

``flock`` on the root directory itself: the kernel drops it when the holder
exits, however it exits, so there are no stale locks and no pid guessing;
no file is created, so nothing shows up in ``git status``; and opening a
directory read-only needs no write permission, so a read-only tree gets a
write error from the plan, not a traceback from the lock. (Releases before
this one used a ``.scaffold.lock`` pid file; such a file is now ignored.)

POSIX only, as vLLM itself is.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from scaffold.errors import ScaffoldError


@contextlib.contextmanager
def tree_lock(root: Path, timeout: float = 60.0) -> Iterator[None]:
    """Hold the lock on ``root`` for the duration of the block."""
    try:
        fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        raise ScaffoldError(
            f"cannot lock the tree: {exc.strerror}", path=str(root)
        ) from None
    try:
        _acquire(fd, root, timeout)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _acquire(fd: int, root: Path, timeout: float) -> None:
    """Poll rather than block, so a run held up by a live one can say so."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise ScaffoldError(
                    f"another scaffold run has held this tree for {timeout:.0f} s; "
                    "wait for it to finish and retry",
                    path=str(root),
                ) from None
            time.sleep(0.02)
