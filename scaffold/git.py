"""Reading files as they were at a git revision (for ``check --since``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from scaffold.errors import ScaffoldError


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
    except FileNotFoundError:
        raise ScaffoldError("git is not installed; --since needs git") from None


def resolve_revision(root: Path, ref: str) -> str:
    """The commit id of ``ref``; ScaffoldError naming what is wrong."""
    if _git(root, "rev-parse", "--git-dir").returncode != 0:
        raise ScaffoldError(
            "not a git repository; --since needs the tree to be in git",
            path=str(root),
        )
    found = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if found.returncode != 0:
        raise ScaffoldError(
            f"--since {ref}: unknown git revision (try origin/main or a commit id)",
            path=str(root),
        )
    return found.stdout.strip()


def file_at(root: Path, commit: str, path: Path) -> str | None:
    """The text of ``path`` at ``commit``; None when it did not exist there."""
    top = _git(root, "rev-parse", "--show-toplevel").stdout.strip()
    relative = path.resolve().relative_to(Path(top).resolve()).as_posix()
    shown = _git(root, "show", f"{commit}:{relative}")
    if shown.returncode != 0:
        return None
    return shown.stdout.replace("\r\n", "\n")
