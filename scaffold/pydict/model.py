"""The model of a dict literal: sections of entries, in 1-based lines.

The model speaks in line numbers of the original text so that editors can
splice lines and leave every other byte alone; :mod:`scaffold.pydict.parse` fills it
in from libcst.

Layout rules (DESIGN §4):

- An *entry* is a ``"Key": value`` element whose key is a string literal.  It
  owns the comment lines directly above it (no blank line between) and, being
  whole lines, its trailing same-line comment.
- *Barriers* split a dict into sections: the dict start, a section header (a
  full comment line ``# [Name]``), a ``# scaffold: off`` or ``# scaffold: on``
  line, and an element whose key is not a string literal (it cannot be
  ordered, so it stays where it is).
- A ``**splat`` is *not* a barrier: upstream vLLM's ``_EMBEDDING_MODELS`` runs
  ``"LlamaModel"``, ``**{...}``, ``"MistralModel"`` as one alphabetical
  sequence. The splat keeps its lines (and the comments directly above it)
  while the entries around it are ordered as one section.
- A section after a directive or odd key keeps the name of the header above
  it; sections between ``off`` and ``on`` are *frozen*: never reordered, never
  checked for order.
- Blank lines, splats, and comment lines not directly above an entry (a
  footer, a comment followed by a blank line), are fixed: they keep their
  position.
- A dict whose elements share lines (``{"A": x, "B": y}``) is read for its
  keys and values but is one frozen section: line splicing cannot move its
  entries, and editors refuse to edit it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from scaffold.errors import ScaffoldError

HEADER = re.compile(r"^\s*#\s*\[(?P<name>[^\]]+)\]\s*$")
DIRECTIVE = re.compile(r"^\s*#\s*scaffold:\s*(?P<state>off|on)\s*$")


@dataclass(frozen=True)
class Entry:
    """One ``"Key": value`` element with its own comment lines."""

    key: str
    key_line: int
    first_line: int  # its first leading comment line, else the key line
    last_line: int  # the line of its comma (or value end), trailing comment included
    value_source: str
    pair: tuple[str, str] | None  # the two strings of a ``("module", "Class")`` value
    section: str | None  # header name of its section
    section_index: int


@dataclass(frozen=True)
class Section:
    """A run of entries between two barriers."""

    index: int
    name: str | None
    start_line: int  # the barrier line that opens it (``{``, header, splat end...)
    end_line: int  # its last line, before the next barrier or ``}``
    frozen: bool  # inside ``# scaffold: off`` ... ``# scaffold: on``
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class DictLiteral:
    """A module-level ``NAME = {...}`` and its sections."""

    name: str
    open_line: int
    open_column: int  # 0-based column of ``{``
    close_line: int
    close_column: int  # 0-based column of ``}``
    one_per_line: bool  # every element on lines of its own: editable
    sections: tuple[Section, ...]
    # Where the last element lacks its trailing comma: (line, column).
    missing_comma_at: tuple[int, int] | None
    # The comma after the element before the last one, which an editor drops
    # when it removes a last element written without one (style kept).
    comma_before_last_at: tuple[int, int] | None = None

    @property
    def entries(self) -> list[Entry]:
        """Every entry, in source order."""
        return [entry for section in self.sections for entry in section.entries]

    def find(self, key: str) -> list[Entry]:
        """The entries whose key is ``key`` (more than one only for duplicates)."""
        return [entry for entry in self.entries if entry.key == key]


@dataclass(frozen=True)
class SourceDicts:
    """The dict literals of one source, plus names bound to something else."""

    lines: list[str]
    dicts: dict[str, DictLiteral]
    non_dicts: dict[str, int]  # name -> line of a binding that is not a dict literal

    def require(self, name: str) -> DictLiteral:
        """The dict called ``name``; ScaffoldError when missing or not a literal."""
        if name in self.dicts:
            return self.dicts[name]
        if name in self.non_dicts:
            raise ScaffoldError(
                f"{name} is not a dict literal; write it as `{name} = {{...}}`",
                line=self.non_dicts[name],
            )
        raise ScaffoldError(
            f"no module-level dict {name} found; "
            f"expected `{name} = {{...}}` (known dicts: {', '.join(self.dicts)})"
        )


def split_keeping_ends(text: str) -> list[str]:
    """Split on ``\\n`` only, keeping the ends, so ``"".join`` gives ``text`` back."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])  # a last line without a final newline
    return lines


@dataclass(frozen=True)
class Element:
    """One dict element located in the text, as the parser hands it over."""

    kind: str  # "entry", "splat" or "odd-key" (a key that is not a str literal)
    first_line: int
    last_line: int
    key: str
    key_line: int
    value_source: str
    pair: tuple[str, str] | None


def one_per_line(open_line: int, close_line: int, elements: Sequence[Element]) -> bool:
    """True when the braces and every element sit on lines of their own."""
    previous_end = open_line
    for element in elements:
        if element.first_line <= previous_end:
            return False
        previous_end = element.last_line
    return close_line > previous_end


def build_sections(
    open_line: int, close_line: int, elements: Sequence[Element], lines: list[str]
) -> tuple[Section, ...]:
    """The sections of a dict whose braces span ``open_line..close_line``."""
    if one_per_line(open_line, close_line, elements):
        return _sections(open_line, close_line, elements, lines)
    return _flat_section(open_line, close_line, elements)


def _flat_section(
    open_line: int, close_line: int, elements: Sequence[Element]
) -> tuple[Section, ...]:
    """Dicts with elements sharing lines: readable, never reordered or checked."""
    entries = tuple(
        _entry(element, element.first_line, None, 0)
        for element in elements
        if element.kind == "entry"
    )
    return (Section(0, None, open_line, close_line, True, entries),)


def _entry(
    element: Element, first_line: int, section: str | None, section_index: int
) -> Entry:
    return Entry(
        element.key,
        element.key_line,
        first_line,
        element.last_line,
        element.value_source,
        element.pair,
        section,
        section_index,
    )


def _sections(
    open_line: int, close_line: int, elements: Sequence[Element], lines: list[str]
) -> tuple[Section, ...]:
    """Walk the lines inside the braces, cutting sections at barriers."""
    sections: list[Section] = []
    entries: list[Entry] = []
    name: str | None = None
    frozen = False
    start = open_line
    pending: list[int] = []  # comment lines directly above what comes next
    by_first_line = {element.first_line: element for element in elements}

    def cut(end_line: int) -> None:
        sections.append(
            Section(len(sections), name, start, end_line, frozen, tuple(entries))
        )
        entries.clear()
        pending.clear()

    line = open_line + 1
    while line < close_line:
        element = by_first_line.get(line)
        if element is not None and element.kind == "entry":
            first = pending[0] if pending else line
            entries.append(_entry(element, first, name, len(sections)))
            pending.clear()
            line = element.last_line + 1
            continue
        if element is not None and element.kind == "splat":  # fixed, no barrier
            pending.clear()  # comments above a splat are the splat's own
            line = element.last_line + 1
            continue
        if element is not None:  # an odd key: a barrier
            cut(line - 1)
            start = element.last_line
            line = element.last_line + 1
            continue
        text = lines[line - 1]
        header = HEADER.match(text)
        directive = DIRECTIVE.match(text)
        if header or directive:
            cut(line - 1)
            name = header.group("name").strip() if header else name
            frozen = directive.group("state") == "off" if directive else frozen
            start = line
        elif text.lstrip().startswith("#"):
            pending.append(line)
        else:  # a blank line detaches the comments above it
            pending.clear()
        line += 1
    cut(close_line - 1)
    return tuple(sections)
