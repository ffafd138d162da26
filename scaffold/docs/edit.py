"""Add and remove architectures in the supported-models tables.

Pure text -> text; every byte outside the edited line stays as it was, a
missing final newline included, so ``remove_arch(insert_row(x))`` is ``x``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from scaffold.docs.locate import architecture_tables, locate_table
from scaffold.docs.table import (
    Table,
    arch_items,
    cell_spans,
    split_cells,
    split_dropping_ends,
)
from scaffold.errors import ScaffoldError
from scaffold.ordering import SortKey, best_slot

CHECK_MARK = "\u2705\ufe0e"  # ✅︎: the check mark followed by VS15, as upstream


@dataclass(frozen=True)
class NewRow:
    """What a new row says; the table's header decides which of it appears."""

    arch: str
    models: str = ""
    inputs: str = "T"
    hf_example: str = ""
    lora: bool = False
    pp: bool = False


@dataclass(frozen=True)
class _Style:
    indent: str
    pad: str
    empty_cell: str
    closing_pipe: bool


def _style(table: Table) -> _Style:
    """How the table's rows are written, so a new row looks like its neighbours."""
    sample = [row.raw for row in table.rows] or [table.header_raw]
    cells = [cell for line in sample for cell in split_cells(line)]
    filled = [cell for cell in cells if cell.strip()]
    padded = sum(cell.startswith(" ") for cell in filled)
    pad = " " if 2 * padded >= len(filled) else ""
    empties = Counter(cell for cell in cells if not cell.strip())
    header = table.header_raw
    return _Style(
        indent=header[: len(header) - len(header.lstrip())],
        pad=pad,
        empty_cell=empties.most_common(1)[0][0] if empties else pad,
        closing_pipe=header.rstrip().endswith("|"),
    )


def _escape(text: str) -> str:
    if "\n" in text:
        raise ScaffoldError(f"a docs table cell cannot span lines: {text!r}")
    return text.replace("|", "\\|")


def _cell_text(title: str, new: NewRow) -> str:
    """The cell under the column titled ``title``; unknown columns stay empty."""
    title = title.casefold()
    if "architecture" in title:
        return f"`{new.arch}`"
    if "example" in title:
        return f"`{_escape(new.hf_example)}`" if new.hf_example else ""
    if title == "models":
        return _escape(new.models)
    if title == "inputs":
        return _escape(new.inputs)
    if "lora" in title:
        return CHECK_MARK if new.lora else ""
    if re.search(r"\bpp\b", title):
        return CHECK_MARK if new.pp else ""
    return ""


def render_row(table: Table, new: NewRow) -> str:
    """The line for ``new`` under ``table``'s header, in the style of its rows."""
    if not new.arch.isidentifier():
        raise ScaffoldError(f"not an architecture name: {new.arch!r}")
    style = _style(table)
    cells = [_cell_text(title, new) for title in table.columns]
    body = "|".join(
        f"{style.pad}{cell}{style.pad}" if cell else style.empty_cell for cell in cells
    )
    return f"{style.indent}|{body}{'|' if style.closing_pipe else ''}"


def insert_row(
    text: str, kind: str | None, new: NewRow, sort_key: SortKey
) -> str | None:
    """Insert a row for ``new`` into the ``kind`` table of the document.

    ``kind`` None: the document is the kind's own page (see
    :func:`~scaffold.docs.table.locate_table`).

    The row goes to the slot with the fewest out-of-order rows
    (:func:`scaffold.ordering.best_slot` over the rows' first architectures).
    Returns None when the document has no table for ``kind``: the caller notes
    that and skips the docs. Raises :class:`ScaffoldError` (with the line) when
    the table already names ``new.arch``.
    """
    table = locate_table(text, kind)
    if table is None:
        return None
    for row in table.rows:
        if new.arch in row.archs:
            raise ScaffoldError(
                f"{new.arch} is already in the {kind or 'page'}'s docs table; "
                "remove that row first",
                line=row.line,
            )
    rows = table.ordered_rows
    slot = best_slot([sort_key(row.first_arch) for row in rows], sort_key(new.arch))
    # 0-based index of the line the new row goes before: above a later row,
    # else below the last ordered one (above a trailing "*Model, etc." row).
    if slot < len(rows):
        before = rows[slot].line - 1
    else:
        before = rows[-1].line if rows else table.last_line
    lines = split_dropping_ends(text)
    lines.insert(before, render_row(table, new))
    return "\n".join(lines)


def _cut_arch(line: str, column: int, arch: str) -> str:
    """``line`` with every mention of ``arch`` cut from its Architecture cell.

    Another architecture must remain in the cell. An item is cut with the comma
    after it, or, when it is last, with the comma before it, so the others keep
    their superscripts and the cell its padding.
    """
    start, end = cell_spans(line)[column]
    cell = line[start:end]
    items = arch_items(cell)
    while arch in (names := [item.name for item in items]):
        index = names.index(arch)
        if index + 1 < len(items):
            cut_from, cut_to = items[index].start, items[index + 1].start
        else:
            cut_from, cut_to = items[index - 1].end, items[index].end
        cell = cell[:cut_from] + cell[cut_to:]
        items = arch_items(cell)
    return line[:start] + cell + line[end:]


def remove_arch(text: str, arch: str, *, kind: str | None = None) -> str:
    """Remove ``arch`` from the docs: its row, or its part of a shared row.

    Looks in every architecture table, or only in the ``kind`` table when given.
    Returns ``text`` unchanged when no table names ``arch``.
    """
    if kind is None:
        tables = architecture_tables(text)
    else:
        tables = [table for table in [locate_table(text, kind)] if table]
    lines = split_dropping_ends(text)
    dropped = []
    for table in tables:
        assert table.arch_column is not None  # architecture tables have one
        for row in table.rows:
            if set(row.archs) == {arch}:
                dropped.append(row.line - 1)
            elif arch in row.archs:
                lines[row.line - 1] = _cut_arch(row.raw, table.arch_column, arch)
    for index in sorted(dropped, reverse=True):
        del lines[index]
    return "\n".join(lines)
