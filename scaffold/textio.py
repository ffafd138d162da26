"""Reading and writing source files without losing a byte.

Editors see LF-only text without a BOM; these helpers remember the file's
line ending and BOM and put them back, so a CRLF file stays CRLF.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scaffold.errors import ScaffoldError

BOM = "\ufeff"


@dataclass(frozen=True)
class SourceText:
    """A file's text as editors see it, plus what is needed to write it back."""

    text: str
    newline: str = "\n"
    bom: bool = False

    def encode(self, text: str) -> str:
        """``text`` (LF, no BOM) in this file's conventions, ready to write."""
        if self.newline != "\n":
            text = text.replace("\n", self.newline)
        return BOM + text if self.bom else text


def decode(raw: str) -> SourceText:
    """Split ``raw`` file content into editor text and its conventions."""
    bom = raw.startswith(BOM)
    if bom:
        raw = raw[1:]
    newline = "\r\n" if "\r\n" in raw else "\n"
    return SourceText(raw.replace("\r\n", "\n"), newline, bom)


def read_raw(path: Path) -> str:
    """The exact content of ``path`` as a string (UTF-8 only)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScaffoldError(f"cannot read: {exc.strerror}", path=str(path)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScaffoldError(
            "not UTF-8 (re-save the file as UTF-8)", path=str(path), line=line
        ) from None


def read_source(path: Path) -> SourceText:
    """Read ``path`` for an editor."""
    return decode(read_raw(path))
