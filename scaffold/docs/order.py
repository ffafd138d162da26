"""Check and fix the order of the supported-models tables (``scaffold check``).

A row sorts by the key of its first architecture (DESIGN §4); every table with
an ``Architecture`` column is checked and sorted on its own.
"""

from __future__ import annotations

from scaffold.docs.locate import architecture_tables
from scaffold.docs.table import Table, scan, split_dropping_ends
from scaffold.findings import Finding
from scaffold.ordering import SortKey, out_of_order


def _row_keys(table: Table, sort_key: SortKey) -> list[object]:
    return [sort_key(row.first_arch) for row in table.ordered_rows]


def sort_tables(text: str, sort_key: SortKey) -> str:
    """Sort the rows of every architecture table by their first architecture.

    Rows move whole and equal keys keep their order, so no row is added or
    dropped and sorting twice changes nothing.
    """
    lines = split_dropping_ends(text)
    for table in architecture_tables(text):
        keys = _row_keys(table, sort_key)
        order = sorted(range(len(keys)), key=keys.__getitem__)
        rows = table.ordered_rows  # the others keep their lines
        for row, source in zip(rows, order, strict=True):
            lines[row.line - 1] = rows[source].raw
    return "\n".join(lines)


def _table_findings(table: Table, sort_key: SortKey) -> list[Finding]:
    findings = []
    rows = table.ordered_rows
    for index in out_of_order(_row_keys(table, sort_key)):
        row, above = rows[index], rows[index - 1]
        findings.append(
            Finding(
                "order",
                row.line,
                row.first_arch,
                f"{row.first_arch} should come before {above.first_arch} in the "
                "docs table; run `scaffold check --fix`",
                related=above.first_arch,
            )
        )
    first_seen: dict[str, int] = {}
    for row in table.rows:
        for arch in row.archs:
            if arch in first_seen:
                findings.append(
                    Finding(
                        "duplicate",
                        row.line,
                        arch,
                        f"{arch} is already in the docs table at line "
                        f"{first_seen[arch]}; keep one of the two",
                    )
                )
            else:
                first_seen[arch] = row.line
    return findings


def check_tables(text: str, sort_key: SortKey) -> list[Finding]:
    """``order``, ``duplicate`` and ``docs-table`` findings, by line.

    ``order``: a row whose key is smaller than the row above it; ``duplicate``:
    an architecture named again later in the same table (at the later line);
    ``docs-table``: an architecture table that cannot be read.
    """
    findings = [
        finding
        for table in architecture_tables(text)
        for finding in _table_findings(table, sort_key)
    ]
    findings += [
        Finding(
            "docs-table",
            line,
            "",
            "this architecture table's separator row (the line below) is "
            "malformed, so none of its rows can be read; write one `---` cell "
            "per column",
        )
        for line in scan(text)[2]
    ]
    return sorted(findings, key=lambda finding: (finding.line, finding.code))
