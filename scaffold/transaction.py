"""Writing several files as one step that a crash cannot leave half done.

Renames are atomic one file at a time; across files they are not. So before
anything is staged, a journal (``.scaffold-journal`` at the tree root) records
every file's content before and after. A run killed anywhere in between leaves
that journal behind, and the next run, holding the tree lock (so the writer
is surely gone), rolls each file back to its "before" and removes the temp
files the dead run staged. The journal is deleted once every rename is done.

``SCAFFOLD_KILL_AT`` names a point at which the process SIGKILLs itself
(``journal``, ``stage:N``, ``commit:N``, ``done``; N counts from 1). Crash
tests use it to hit the commit window exactly rather than by timing.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
from dataclasses import dataclass
from pathlib import Path

JOURNAL_NAME = ".scaffold-journal"


@dataclass(frozen=True)
class Write:
    """One file: ``old`` None for a new file, ``new`` None for a deletion.

    ``path`` is where the bytes go: a symlink is written through to its target.
    """

    path: Path
    old: str | None
    new: str | None


class Interrupted(Exception):
    """The journal cannot be trusted; the message says why.

    It is unreadable, or a file it names is neither its before nor its after.
    """


def apply_writes(root: Path, writes: list[Write], *, journal: bool = True) -> None:
    """Write every file or none; OSError (with every file restored) on failure.

    With ``journal`` False (a new folder outside any tree) a crash can leave
    part of the files, but an error still undoes them.
    """
    token = secrets.token_hex(4)
    if journal:
        _write_journal(root, token, writes)
    _kill_point("journal")
    done: list[Write] = []
    current = None
    try:
        for number, current in enumerate(writes, 1):
            _kill_point(f"stage:{number}")
            _stage(current, token)
        for number, current in enumerate(writes, 1):
            _kill_point(f"commit:{number}")
            _commit(current, token)
            done.append(current)
        _kill_point("done")
    except BaseException as exc:
        _roll_back(done)
        _remove_temps(writes, token)
        if journal:
            _journal_path(root).unlink()
        if isinstance(exc, OSError) and current is not None:
            # Name the file being written, not the temp file beside it.
            raise OSError(exc.errno, exc.strerror, str(current.path)) from None
        raise
    if journal:
        _journal_path(root).unlink()


def recover(root: Path) -> list[Path] | None:
    """Undo an interrupted apply under ``root``: the files it restored, or None.

    None means there was no journal, hence nothing interrupted.
    Call it holding the tree lock: a journal seen then belongs to a dead run.
    Raises Interrupted when a file has changed since (nothing is restored).
    """
    for leftover in root.glob(f"{JOURNAL_NAME}.*.tmp"):
        leftover.unlink()  # the dead run never finished writing its journal
    path = _journal_path(root)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        writes = [
            Write(root / entry["path"], entry["old"], entry["new"])
            for entry in data["writes"]
        ]
        token = str(data["token"])
    except (ValueError, KeyError, TypeError):
        raise Interrupted("the journal cannot be read") from None
    for write in writes:
        if _current(write.path) not in (write.old, write.new):
            raise Interrupted(f"{write.path} has changed since")
    restored = [write for write in writes if _current(write.path) != write.old]
    _roll_back(restored)
    _remove_temps(writes, token)
    path.unlink()
    return [write.path for write in restored]


def has_journal(root: Path) -> bool:
    """True when a run was interrupted here (or is in its commit right now).

    A journal still being written counts: its writer may have died.
    """
    return _journal_path(root).exists() or any(root.glob(f"{JOURNAL_NAME}.*.tmp"))


def _journal_path(root: Path) -> Path:
    return root / JOURNAL_NAME


def _write_journal(root: Path, token: str, writes: list[Write]) -> None:
    entries = [
        {"path": os.path.relpath(w.path, root), "old": w.old, "new": w.new}
        for w in writes
    ]
    temp = root / f"{JOURNAL_NAME}.{token}.tmp"
    try:
        _write_new(temp, json.dumps({"token": token, "writes": entries}))
        os.replace(temp, _journal_path(root))
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise


def _temp_path(path: Path, token: str) -> Path:
    return path.with_name(f".{path.name}.{token}.tmp")


def _stage(write: Write, token: str) -> None:
    """Write the new content next to its target; nothing is replaced yet."""
    if write.new is None:
        return
    write.path.parent.mkdir(parents=True, exist_ok=True)
    temp = _temp_path(write.path, token)
    _write_new(temp, write.new)
    if write.old is not None:
        os.chmod(temp, write.path.stat().st_mode & 0o7777)


def _commit(write: Write, token: str) -> None:
    if write.new is None:
        write.path.unlink()
    else:
        os.replace(_temp_path(write.path, token), write.path)


def _roll_back(writes: list[Write]) -> None:
    """Put each file's ``old`` back (atomically), newest change first."""
    for write in reversed(writes):
        if write.old is None:
            with contextlib.suppress(FileNotFoundError):
                write.path.unlink()
            continue
        temp = write.path.with_name(f".{write.path.name}.restore.tmp")
        _write_new(temp, write.old, exclusive=False)
        with contextlib.suppress(FileNotFoundError):  # keep the file's mode
            os.chmod(temp, write.path.stat().st_mode & 0o7777)
        os.replace(temp, write.path)


def _remove_temps(writes: list[Write], token: str) -> None:
    for write in writes:
        with contextlib.suppress(FileNotFoundError):
            _temp_path(write.path, token).unlink()


def _write_new(path: Path, text: str, *, exclusive: bool = True) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def _current(path: Path) -> str | None:
    """The file's content as the journal records it, None when it is absent."""
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        return "\0"  # matches neither side: someone wrote another file there


def _kill_point(name: str) -> None:
    if os.environ.get("SCAFFOLD_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
