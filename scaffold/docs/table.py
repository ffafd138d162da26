"""Read the supported-models markdown: headings, tables, rows and their architectures.

Pure functions on the document text (the caller has already turned CRLF into
LF). Lines are numbered from 1, as in findings and errors. Nothing here
rewrites text; :mod:`scaffold.docs.edit` does, using the spans found here.

A table is a line whose stripped form starts with ``|``, followed by a
separator row (``|---|`` or ``| --- |``, colons allowed) with the same number
of cells, followed by every consecutive line that starts with ``|``. Fenced
code blocks are skipped, so example tables in code never count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*))?")
_FENCE = re.compile(r"\s*(```|~~~)")
_SEPARATOR_CELL = re.compile(r"\s*:?-+:?\s*")
# A pipe escaped as ``\|`` belongs to the cell's text, so it never splits.
_CELL_PIPE = re.compile(r"(?<!\\)\|")
_SUPERSCRIPT = re.compile(r"<sup>.*?</sup>")
_NAME_NOISE = re.compile(r"[`\s]")


@dataclass(frozen=True)
class Row:
    """One body row: its line number, its text, and the architectures it names."""

    line: int
    raw: str
    archs: tuple[str, ...]

    @property
    def first_arch(self) -> str:
        """The architecture a row sorts by (DESIGN §4); "" for a row naming none."""
        return self.archs[0] if self.archs else ""


@dataclass(frozen=True)
class Table:
    """One markdown table, its header parsed into column titles."""

    header_line: int
    header_raw: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    # Index of the ``Architecture`` column; None for tables that list no models.
    arch_column: int | None

    @property
    def ordered_rows(self) -> tuple[Row, ...]:
        """The rows that name an architecture; they are the ones kept in order.

        Others (upstream's pooling pages end with ``*Model``, ``*ForCausalLM``,
        "etc." rows for converted models) keep their place, like a footer.
        """
        return tuple(row for row in self.rows if row.archs)

    @property
    def last_line(self) -> int:
        """Line number of the last line of the table (the separator if no rows)."""
        return self.rows[-1].line if self.rows else self.header_line + 1


@dataclass(frozen=True)
class Heading:
    """A markdown ATX heading; ``end`` is the line after its section."""

    line: int
    level: int
    text: str
    end: int


@dataclass(frozen=True)
class ArchItem:
    """An architecture in a cell, and the span of its text (superscripts included)."""

    name: str
    start: int
    end: int


def split_dropping_ends(text: str) -> list[str]:
    """Split on LF only, so ``"\\n".join`` gives back the text byte for byte."""
    return text.split("\n")


def cell_spans(line: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each cell of a table line, outer pipes excluded."""
    pipes = [match.start() for match in _CELL_PIPE.finditer(line)]
    content_end = len(line.rstrip())
    if not pipes or pipes[-1] != content_end - 1:
        # No closing pipe: the last cell runs to the end of the text.
        pipes.append(content_end)
    return [(left + 1, right) for left, right in pairwise(pipes)]


def split_cells(line: str) -> list[str]:
    """The raw text of each cell of a table line (padding kept)."""
    return [line[start:end] for start, end in cell_spans(line)]


def arch_items(cell: str) -> list[ArchItem]:
    """Architectures named in an ``Architecture`` cell, e.g. `` `A`<sup>^</sup>, `B` ``.

    Items are separated by commas outside ``<sup>`` tags; a name is the item with
    backticks, superscripts and whitespace removed. Spans cover the item without
    its surrounding whitespace, so an editor can cut one item out cleanly.
    """
    # Blank out superscripts so a comma inside one never splits an item.
    masked = _SUPERSCRIPT.sub(lambda match: "\0" * len(match.group()), cell)
    items = []
    start = 0
    for part in masked.split(","):
        end = start + len(part)
        raw = cell[start:end]
        name = _NAME_NOISE.sub("", _SUPERSCRIPT.sub("", raw))
        if name.isidentifier():  # not prose such as a trailing "etc."
            lead = len(raw) - len(raw.lstrip())
            items.append(ArchItem(name, start + lead, start + len(raw.rstrip())))
        start = end + 1
    return items


def _row_archs(line: str, arch_column: int | None) -> tuple[str, ...]:
    cells = split_cells(line)
    if arch_column is None or arch_column >= len(cells):
        return ()
    return tuple(item.name for item in arch_items(cells[arch_column]))


def _is_table_line(line: str) -> bool:
    return line.lstrip().startswith("|")


def _is_separator(line: str, width: int) -> bool:
    cells = split_cells(line)
    return len(cells) == width and all(
        _SEPARATOR_CELL.fullmatch(cell) for cell in cells
    )


def _column_title(cell: str) -> str:
    # ``[LoRA](../features/lora.md)`` is titled by its link text.
    return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", cell).strip()


def _arch_column(columns: tuple[str, ...]) -> int | None:
    for index, title in enumerate(columns):
        if "architecture" in title.casefold():
            return index
    return None


def _parse_table(lines: list[str], start: int) -> Table | None:
    """The table whose header is ``lines[start]`` (0-based), or None if not one."""
    header = lines[start]
    columns = tuple(_column_title(cell) for cell in split_cells(header))
    if start + 1 >= len(lines) or not _is_separator(lines[start + 1], len(columns)):
        return None
    arch_column = _arch_column(columns)
    rows = []
    index = start + 2
    while index < len(lines) and _is_table_line(lines[index]):
        line = lines[index]
        rows.append(Row(index + 1, line, _row_archs(line, arch_column)))
        index += 1
    return Table(start + 1, header, columns, tuple(rows), arch_column)


# Callers look up one table per kind (and then all of them) in the same text,
# e.g. ``scaffold check``; the scan is cached so a document is read once.  The
# result is immutable, so sharing it between callers is safe.
@lru_cache(maxsize=8)
def scan(
    text: str,
) -> tuple[tuple[Heading, ...], tuple[Table, ...], tuple[int, ...]]:
    """Every heading and every table of the document, in order.

    The third part lists the lines of would-be architecture tables whose
    separator row is malformed: nothing below them can be read as a table,
    so ``check`` reports them rather than skip the rows silently.
    """
    lines = split_dropping_ends(text)
    headings: list[tuple[int, int, str]] = []
    tables: list[Table] = []
    malformed: list[int] = []
    fence = ""
    index = 0
    while index < len(lines):
        line = lines[index]
        fence_match = _FENCE.match(line)
        heading = None if fence else _HEADING.fullmatch(line)
        if fence_match and (not fence or fence_match.group(1) == fence):
            fence = "" if fence else fence_match.group(1)
        elif heading:
            title = (heading.group(2) or "").strip()
            headings.append((index + 1, len(heading.group(1)), title))
        elif not fence and _is_table_line(line):
            table = _parse_table(lines, index)
            if table is not None:
                tables.append(table)
                index = table.last_line
                continue
            if _is_broken_header(lines, index):
                malformed.append(index + 1)
                index += 1  # its body rows are skipped with it
                while index < len(lines) and _is_table_line(lines[index]):
                    index += 1
                continue
        index += 1
    return _with_section_ends(headings, len(lines)), tuple(tables), tuple(malformed)


def _is_broken_header(lines: list[str], start: int) -> bool:
    """An ``Architecture`` header followed by a table line that is no separator."""
    columns = tuple(_column_title(cell) for cell in split_cells(lines[start]))
    return (
        _arch_column(columns) is not None
        and start + 1 < len(lines)
        and _is_table_line(lines[start + 1])
    )


def _with_section_ends(
    headings: list[tuple[int, int, str]], line_count: int
) -> tuple[Heading, ...]:
    """A heading's section ends at the next heading of the same or a higher level."""
    result = []
    for position, (line, level, text) in enumerate(headings):
        end = next(
            (later for later, lvl, _ in headings[position + 1 :] if lvl <= level),
            line_count + 1,
        )
        result.append(Heading(line, level, text, end))
    return tuple(result)
