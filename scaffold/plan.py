"""A Plan: the file changes a command wants, shown as a diff or applied atomically."""

from __future__ import annotations

import contextlib
import difflib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scaffold.errors import ScaffoldError


@dataclass(frozen=True)
class FileChange:
    """One file: ``old`` is None for a new file, ``new`` is None for a deletion.

    Both texts are the exact file contents (line endings included).
    """

    path: Path
    old: str | None
    new: str | None

    @property
    def done(self) -> str:
        """The action in the past tense, for "Created path" lines."""
        return {"create": "Created", "modify": "Modified", "delete": "Deleted"}[
            self.action
        ]

    @property
    def action(self) -> str:
        """``create``, ``modify`` or ``delete``."""
        if self.old is None:
            return "create"
        return "delete" if self.new is None else "modify"

    def diff(self, display: str) -> str:
        """Unified diff, ``display`` being the path shown in the headers."""
        before = "/dev/null" if self.old is None else f"a/{display}"
        after = "/dev/null" if self.new is None else f"b/{display}"
        lines = difflib.unified_diff(
            _diff_lines(self.old), _diff_lines(self.new), before, after
        )
        return "".join(lines)


def _diff_lines(text: str | None) -> list[str]:
    lines = (text or "").splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


@dataclass
class Plan:
    """Every change one command wants, notes for the user, and what is left.

    ``checklist`` holds the things the user still has to do once the plan is
    applied (a template's TODO markers, a plugin's install command).
    """

    root: Path
    changes: list[FileChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checklist: list[str] = field(default_factory=list)

    def add(self, path: Path, old: str | None, new: str | None) -> None:
        """Record a change; a modification that changes nothing is dropped."""
        if old != new:
            self.changes.append(FileChange(path, old, new))

    def display(self, path: Path) -> str:
        """``path`` relative to the tree root."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def diff(self) -> str:
        """The whole plan as one unified diff."""
        return "".join(c.diff(self.display(c.path)) for c in self.changes)

    def to_json(self) -> dict[str, Any]:
        """DESIGN §3 shape: ``{"changes": [{path, action, diff}], "notes": [...]}``."""
        return {
            "changes": [
                {
                    "path": self.display(c.path),
                    "action": c.action,
                    "diff": c.diff(self.display(c.path)),
                }
                for c in self.changes
            ],
            "notes": list(self.notes),
        }

    def apply(self) -> None:
        """Write every change or none: temp files first, then renames, undo on error."""
        staged: list[tuple[FileChange, Path | None]] = []
        try:
            for change in self.changes:
                staged.append((change, _stage(change)))
        except OSError as exc:
            for _, temp in staged:
                _discard(temp)
            raise _write_error(exc, self.display(change.path)) from None
        with _all_or_nothing() as done:
            for change, temp in staged:
                try:
                    done.append(_commit(change, temp))
                except OSError as exc:
                    for _, leftover in staged[len(done) :]:
                        _discard(leftover)
                    raise _write_error(exc, self.display(change.path)) from None


def _write_error(exc: OSError, display: str) -> ScaffoldError:
    return ScaffoldError(
        f"cannot write: {exc.strerror or exc} (nothing was changed)", path=display
    )


def _stage(change: FileChange) -> Path | None:
    """Write the new content next to the target; nothing is replaced yet."""
    if change.new is None:
        return None
    change.path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(
        dir=change.path.parent, prefix=f".{change.path.name}.", suffix=".tmp"
    )
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(change.new)
    if change.old is not None:
        os.chmod(name, change.path.stat().st_mode & 0o7777)
    return Path(name)


def _discard(temp: Path | None) -> None:
    if temp is not None:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def _commit(change: FileChange, temp: Path | None) -> tuple[FileChange, Path | None]:
    """Put one change in place; return what is needed to undo it."""
    if temp is None:  # deletion: move the file aside, dropped once all succeeded
        # mkstemp reserves a fresh name; the rename then replaces that empty file.
        fd, name = tempfile.mkstemp(
            dir=change.path.parent, prefix=f".{change.path.name}.", suffix=".bak"
        )
        os.close(fd)
        try:
            os.replace(change.path, name)
        except OSError:
            _discard(Path(name))
            raise
        return change, Path(name)
    os.replace(temp, change.path)
    return change, None


@contextlib.contextmanager
def _all_or_nothing() -> Iterator[list[tuple[FileChange, Path | None]]]:
    """Undo every committed change if the block fails; drop backups if not."""
    done: list[tuple[FileChange, Path | None]] = []
    try:
        yield done
    except BaseException:
        for change, backup in reversed(done):
            _undo(change, backup)
        raise
    for _, backup in done:
        _discard(backup)


def _undo(change: FileChange, backup: Path | None) -> None:
    if backup is not None:
        os.replace(backup, change.path)
    elif change.old is None:
        change.path.unlink()
    else:
        change.path.write_bytes(change.old.encode("utf-8"))
