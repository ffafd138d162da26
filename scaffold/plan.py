"""A Plan: the file changes a command wants, shown as a diff or applied atomically."""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scaffold.errors import ScaffoldError
from scaffold.transaction import JOURNAL_NAME, Write, apply_writes


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

    def apply(self, *, journal: bool = True) -> None:
        """Write every change or none (see :mod:`scaffold.transaction`).

        A symlink is written through: its target changes, the link stays.
        ``journal`` False is for a plan outside any tree (nothing would
        recover it).
        """
        writes = [
            Write(Path(os.path.realpath(c.path)), c.old, c.new) for c in self.changes
        ]
        try:
            apply_writes(self.root, writes, journal=journal)
        except OSError as exc:
            # A failure before any file (the journal) is reported at the root.
            where = Path(exc.filename) if exc.filename else self.root
            if where.name.startswith(JOURNAL_NAME):
                where = self.root
            raise ScaffoldError(
                f"cannot write: {exc.strerror or exc} (nothing was changed)",
                path=self.display(where) if where != self.root else str(where),
            ) from None
