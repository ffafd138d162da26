"""Which tables of a docs page list architectures, and which one holds a kind."""

from __future__ import annotations

import re
from collections.abc import Sequence

from scaffold.docs.table import Heading, Table, scan


def architecture_tables(text: str) -> list[Table]:
    """Every table of the document that lists architectures vLLM registers.

    A table needs an ``Architecture`` column, and one under a ``Plugins``
    heading does not count: upstream lists out-of-tree plugin architectures
    there (``_OOT_SUPPORTED_MODELS``), which are deliberately not registered.
    """
    headings, tables, _ = scan(text)
    plugins = _sections(headings, "plugins")
    return [
        table
        for table in tables
        if table.arch_column is not None
        and not any(h.line < table.header_line < h.end for h in plugins)
    ]


def named_archs(text: str) -> list[tuple[str, int]]:
    """``(arch, line)`` for every architecture named in any table of the document."""
    return [
        (arch, row.line)
        for table in architecture_tables(text)
        for row in table.rows
        for arch in row.archs
    ]


def _normalise(title: str) -> str:
    # "Text-only", "Cross-encoder" and "cross_encoder" all match their kind.
    return re.sub(r"[-_\s]+", " ", title.casefold())


def _sections(
    headings: Sequence[Heading], words: str, *, within: Heading | None = None
) -> list[Heading]:
    return [
        heading
        for heading in headings
        if _normalise(words) in _normalise(heading.text)
        and (within is None or within.line < heading.line < within.end)
    ]


def locate_table(text: str, kind: str | None) -> Table | None:
    """The architecture table for ``kind`` (DESIGN §5), or None if the doc has none.

    ``text-generation``: under a ``Text Generation`` heading inside the first
    ``Text-only`` section; ``multimodal``: under a ``Multimodal`` heading; any
    other kind: under a heading that names it (``cross-encoder`` matches
    "Cross-encoder / Reranker"). The first matching heading whose section holds
    an architecture table wins, and the first such table in it is returned.
    ``None`` means the document is the kind's own page (upstream's
    ``pooling_models/embed.md``): its first table under a ``Text-only``
    heading, else its first architecture table.
    """
    headings, tables, _ = scan(text)
    if kind is None:
        own = architecture_tables(text)
        text_only = [
            table
            for heading in _sections(headings, "text-only")
            for table in own
            if heading.line < table.header_line < heading.end
        ]
        return (text_only or own or [None])[0]
    if kind == "text-generation":
        text_only = _sections(headings, "text-only")[:1]
        candidates = [
            heading
            for outer in text_only
            for heading in _sections(headings, "text generation", within=outer)
        ]
    else:
        candidates = _sections(headings, kind)
    for heading in candidates:
        for table in tables:
            inside = heading.line < table.header_line < heading.end
            if inside and table.arch_column is not None:
                return table
    return None
