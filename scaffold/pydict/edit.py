"""Insert, remove and sort entries of module-level dict literals, as text.

Every function takes the source text and returns the new text; edits splice
whole lines of the original, so every byte outside the edit stays as it was.
Ordering goes through :mod:`scaffold.ordering` only.
"""

from __future__ import annotations

from collections.abc import Iterable

from scaffold.errors import ScaffoldError
from scaffold.ordering import SortKey, best_slot
from scaffold.pydict.model import DictLiteral, Entry, Section, SourceDicts
from scaffold.pydict.parse import parse_source
from scaffold.pydict.values import EntryValue, render_entry

DEFAULT_INDENT = "    "


def insert_entry(
    text: str,
    dict_name: str,
    key: str,
    value: EntryValue,
    sort_key: SortKey,
    section: str | None = None,
    *,
    parsed: SourceDicts | None = None,
) -> str:
    """Insert ``"key": value,`` into one section of ``dict_name``.

    The section is the one headed ``# [section]`` (default: the first section
    holding entries, else the first headed one).  The entry goes to the
    :func:`~scaffold.ordering.best_slot` of the section's keys, above the
    comment lines of the entry it precedes and below the section's barrier.
    Refuses a key already in the dict, an unknown section and a dict whose
    entries share lines.  ``parsed`` is :func:`~scaffold.pydict.parse_source`
    of ``text`` when the caller already has it (parsing is most of the cost).
    """
    source = _source(text, parsed)
    literal = source.require(dict_name)
    lines = list(source.lines)
    present = literal.find(key)
    if present:
        raise ScaffoldError(
            f"{key} is already in {dict_name}; remove it first or pick another name",
            line=present[0].key_line,
        )
    if _is_inline_empty(lines, literal):
        return _fill_inline_empty(lines, literal, key, value)
    _require_editable(literal)
    target = _pick_section(literal, section)
    keys = [sort_key(entry.key) for entry in target.entries]
    slot = best_slot(keys, sort_key(key))
    if slot < len(target.entries):
        at = target.entries[slot].first_line  # above its leading comments
    elif target.entries:
        at = target.entries[-1].last_line + 1
    else:
        at = target.start_line + 1  # right below the header (or the brace)
    rendered = render_entry(key, value, _indent(literal, target, lines))
    missing = literal.missing_comma_at
    if missing is not None and missing[0] < at:
        # Appending after a last element written without its trailing comma:
        # it gets one, and the new last element goes without, as the user
        # writes them (remove_entry undoes both).
        line, column = missing
        lines[line - 1] = lines[line - 1][:column] + "," + lines[line - 1][column:]
        rendered[-1] = rendered[-1].replace(",\n", "\n")
    lines[at - 1 : at - 1] = rendered
    return "".join(lines)


def remove_entry(
    text: str, dict_name: str, key: str, *, parsed: SourceDicts | None = None
) -> str:
    """Remove ``key`` (every occurrence) from ``dict_name`` with its own comments.

    The inverse of :func:`insert_entry`: a dict left with nothing between its
    braces collapses back to ``{}``.  (An empty dict written ``{ }`` or
    ``{\n}`` comes back as ``{}`` too: once an entry is inserted the three
    read the same, so one form must win, and ``{}`` is what ruff and black
    write.)  ``parsed`` as in :func:`insert_entry`.
    """
    source = _source(text, parsed)
    literal = source.require(dict_name)
    entries = literal.find(key)
    if not entries:
        raise ScaffoldError(
            f"{key} is not in {dict_name}; nothing to remove", line=literal.open_line
        )
    _require_editable(literal)
    lines = list(source.lines)
    _keep_comma_style(lines, literal, entries)
    for entry in reversed(entries):
        del lines[entry.first_line - 1 : entry.last_line]
    removed = sum(entry.last_line - entry.first_line + 1 for entry in entries)
    if literal.close_line - removed == literal.open_line + 1:
        _collapse_empty(lines, literal)
    return "".join(lines)


def _keep_comma_style(
    lines: list[str], literal: DictLiteral, removed: list[Entry]
) -> None:
    """Removing a last element written without a comma: the new last loses its own.

    The inverse of :func:`insert_entry` appending after such an element.
    """
    missing, comma = literal.missing_comma_at, literal.comma_before_last_at
    if missing is None or comma is None or len(removed) != 1:
        return
    if not removed[0].first_line <= missing[0] <= removed[0].last_line:
        return  # the comma-less last element stays (a splat, or another entry)
    line, column = comma
    lines[line - 1] = lines[line - 1][:column] + lines[line - 1][column + 1 :]


def sort_dicts(
    text: str,
    sort_key: SortKey,
    names: Iterable[str] | None = None,
    *,
    parsed: SourceDicts | None = None,
) -> str:
    """Sort every section of the named dicts (default: all) by ``sort_key``.

    Entries move with their leading comment lines and trailing comment; the
    entries of a section trade places, so every other line keeps its place:
    headers, splats, footers and ``off``/``on`` regions keep their line, a
    blank line or floating comment between entries its slot.  A moved entry
    always ends with a comma.  Missing names and dicts whose entries share
    lines are left alone.  Never adds or drops a line; idempotent.
    ``parsed`` as in :func:`insert_entry`.
    """
    source = _source(text, parsed)
    lines = list(source.lines)
    wanted = source.dicts if names is None else names
    for name in wanted:
        literal = source.dicts.get(name)
        if literal is None or not literal.one_per_line:
            continue
        for section in literal.sections:
            if not section.frozen:
                _sort_section(lines, section, literal.missing_comma_at, sort_key)
    return "".join(lines)


def _source(text: str, parsed: SourceDicts | None) -> SourceDicts:
    """The caller's parse of ``text`` if it passed one, else a fresh one."""
    return parsed if parsed is not None else parse_source(text)


def _sort_section(
    lines: list[str],
    section: Section,
    missing_comma_at: tuple[int, int] | None,
    sort_key: SortKey,
) -> None:
    """Permute the section's entry blocks in place; line count is unchanged."""
    entries = section.entries
    order = sorted(range(len(entries)), key=lambda i: sort_key(entries[i].key))
    if order == list(range(len(entries))):
        return
    blocks = []
    for slot, source_index in enumerate(order):
        entry = entries[source_index]
        block = lines[entry.first_line - 1 : entry.last_line]
        if slot != source_index and missing_comma_at is not None:
            line, column = missing_comma_at
            if entry.first_line <= line <= entry.last_line:
                row = line - entry.first_line
                block[row] = block[row][:column] + "," + block[row][column:]
        blocks.append(block)
    rebuilt: list[str] = []
    cursor = entries[0].first_line
    for entry, block in zip(entries, blocks, strict=True):
        rebuilt += lines[cursor - 1 : entry.first_line - 1]  # fixed lines between
        rebuilt += block
        cursor = entry.last_line + 1
    lines[entries[0].first_line - 1 : entries[-1].last_line] = rebuilt


def _require_editable(literal: DictLiteral) -> None:
    if not literal.one_per_line:
        raise ScaffoldError(
            f"{literal.name} has elements sharing a line; put each entry and "
            "each brace on lines of their own first",
            line=literal.open_line,
        )


def _pick_section(literal: DictLiteral, name: str | None) -> Section:
    """The section to insert into; see :func:`insert_entry`."""
    open_sections = [section for section in literal.sections if not section.frozen]
    if name is not None:
        for section in open_sections:
            if section.name == name:
                return section
        known = dict.fromkeys(s.name for s in open_sections if s.name is not None)
        frozen = any(section.name == name for section in literal.sections)
        raise ScaffoldError(
            f"{literal.name} has no section {name!r}"
            f"{' outside `# scaffold: off` regions' if frozen else ''}; "
            f"known sections: {', '.join(known) or 'none'}",
            line=literal.open_line,
        )
    # The first section is never frozen (it starts at the brace), so one is found.
    candidates = (
        [section for section in open_sections if section.entries]
        or [section for section in open_sections if section.name is not None]
        or open_sections
    )
    return candidates[0]


def _indent(literal: DictLiteral, target: Section, lines: list[str]) -> str:
    """The indentation of the section's entries, else the dict's, else brace + 4."""
    neighbours = list(target.entries) or literal.entries
    if neighbours:
        return _leading_space(lines[neighbours[0].key_line - 1])
    if target.start_line != literal.open_line:  # a header or directive comment
        return _leading_space(lines[target.start_line - 1])
    return _leading_space(lines[literal.open_line - 1]) + DEFAULT_INDENT


def _leading_space(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _is_inline_empty(lines: list[str], literal: DictLiteral) -> bool:
    """True for ``NAME = {}``: both braces on one line, nothing between them."""
    row = lines[literal.open_line - 1]
    inside = row[literal.open_column + 1 : literal.close_column]
    return literal.open_line == literal.close_line and not inside.strip()


def _fill_inline_empty(
    lines: list[str], literal: DictLiteral, key: str, value: EntryValue
) -> str:
    """Turn ``NAME = {}`` into a multi-line dict holding one entry."""
    row = lines[literal.open_line - 1]
    base = _leading_space(row)
    head = row[: literal.open_column + 1] + "\n"
    tail = base + row[literal.close_column :]
    entry = render_entry(key, value, base + DEFAULT_INDENT)
    lines[literal.open_line - 1 : literal.open_line] = [head, *entry, tail]
    return "".join(lines)


def _collapse_empty(lines: list[str], literal: DictLiteral) -> None:
    """Join ``NAME = {`` and ``}`` back into ``NAME = {}`` (inverse of the fill)."""
    row = literal.open_line - 1
    opening, closing = lines[row], lines[row + 1]
    after_brace = opening[literal.open_column + 1 :]
    if after_brace.strip() or not closing.lstrip().startswith("}"):
        return  # a comment after the brace: keep the lines as they are
    lines[row : row + 2] = [opening[: literal.open_column + 1] + closing.lstrip(" \t")]
