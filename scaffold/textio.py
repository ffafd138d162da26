"""Reading and writing source files without losing a byte.

Editors see LF-only text without a BOM; these helpers remember the file's
BOM and every line's own ending and put them back: a CRLF file stays CRLF,
and in a file of mixed endings each line keeps its own
(:mod:`scaffold.line_endings`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scaffold.errors import ScaffoldError
from scaffold.line_endings import carry_endings

BOM = "\ufeff"

# Upstream's largest file scaffold parses (registry.py) is about 80 KB; ten
# times that is still a registry, while a 5 MB one costs libcst 40 s and 2 GB
# and 50 MB aborts its native parser. Refuse well before that.
MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class SourceText:
    """A file's text as editors see it, plus what is needed to write it back."""

    text: str
    newline: str = "\n"  # the commoner ending: what new lines get
    bom: bool = False
    # Per line of ``text``, its ending in the file; None when all are ``newline``.
    endings: tuple[str, ...] | None = None

    def encode(self, text: str) -> str:
        """``text`` (LF, no BOM) in this file's conventions, ready to write."""
        if self.endings is not None:
            text = self._with_own_endings(text)
        elif self.newline != "\n":
            text = text.replace("\n", self.newline)
        return BOM + text if self.bom else text

    def _with_own_endings(self, text: str) -> str:
        assert self.endings is not None
        old, new = self.text.split("\n"), text.split("\n")
        # The last piece of each split is what follows the last newline.
        endings = carry_endings(old[:-1], self.endings, new[:-1], self.newline)
        pieces = [line + ending for line, ending in zip(new, endings, strict=False)]
        return "".join(pieces) + new[-1]


def decode(raw: str) -> SourceText:
    """Split ``raw`` file content into editor text and its conventions.

    ValueError (with the line) when a line ends in a lone CR, which editors
    could not write back.
    """
    bom = raw.startswith(BOM)
    if bom:
        raw = raw[1:]
    text = raw.replace("\r\n", "\n")
    if "\r" in text:
        raise ValueError(text[: text.index("\r")].count("\n") + 1)
    crlf = raw.count("\r\n")
    lf = text.count("\n") - crlf
    newline = "\r\n" if crlf > lf else "\n"
    endings = None
    if crlf and lf:
        endings = tuple(
            "\r\n" if line.endswith("\r") else "\n" for line in raw.split("\n")[:-1]
        )
    return SourceText(text, newline, bom, endings)


def read_raw(path: Path) -> str:
    """The exact content of ``path`` as a string (UTF-8 only)."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ScaffoldError(
                f"{path.stat().st_size:,} bytes is too large for scaffold "
                f"(limit {MAX_BYTES:,}, over ten times upstream vLLM's registry); "
                "split the file",
                path=str(path),
            )
        data = path.read_bytes()
    except OSError as exc:
        raise ScaffoldError(_read_problem(path, exc), path=str(path)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScaffoldError(
            "not UTF-8 (re-save the file as UTF-8)", path=str(path), line=line
        ) from None


def is_present(path: Path) -> bool:
    """Whether a file the tree may lack is there; a dangling symlink is an error.

    A link to nowhere is a broken file, not a missing one: skipping it as
    absent would quietly leave that file out of the edit.
    """
    if _is_dangling(path):
        raise ScaffoldError(_dangling(path), path=str(path))
    return path.is_file()


def _is_dangling(path: Path) -> bool:
    return path.is_symlink() and not path.exists()


def _dangling(path: Path) -> str:
    return (
        f"a dangling symlink (to {path.readlink()}, which does not exist); "
        "fix the link or replace it with the file"
    )


def _read_problem(path: Path, exc: OSError) -> str:
    return _dangling(path) if _is_dangling(path) else f"cannot read: {exc.strerror}"


def read_source(path: Path) -> SourceText:
    """Read ``path`` for an editor."""
    raw = read_raw(path)
    try:
        return decode(raw)
    except ValueError as lone_cr:
        raise ScaffoldError(
            "this line ends in a lone CR (old Mac line endings), which Python "
            "reads as a line break; convert the file to LF (or CRLF) endings",
            path=str(path),
            line=lone_cr.args[0],
        ) from None
