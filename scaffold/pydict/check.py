"""Findings about dict literals: entries out of order, keys given twice."""

from __future__ import annotations

from collections.abc import Iterable

from scaffold.findings import Finding
from scaffold.ordering import SortKey, out_of_order
from scaffold.pydict.model import DictLiteral
from scaffold.pydict.parse import parse_source


def check_dicts(
    text: str, sort_key: SortKey, names: Iterable[str] | None = None
) -> list[Finding]:
    """``order`` and ``duplicate`` findings for the named dicts (default: all).

    Names that are not dicts of ``text`` are skipped; the caller notes them.
    Findings come sorted by line, with an empty ``path`` for the caller to fill.
    """
    source = parse_source(text)
    wanted = source.dicts if names is None else names
    findings = []
    for name in wanted:
        literal = source.dicts.get(name)
        if literal is not None:
            findings += order_findings(literal, sort_key)
            findings += duplicate_findings(literal)
    return sorted(findings, key=lambda finding: (finding.line, finding.code))


def order_findings(literal: DictLiteral, sort_key: SortKey) -> list[Finding]:
    """An ``order`` finding per entry whose key is smaller than the one above it.

    Only within a section, and never inside ``# scaffold: off`` regions.
    """
    findings = []
    for section in literal.sections:
        if section.frozen:
            continue
        entries = section.entries
        for index in out_of_order([sort_key(entry.key) for entry in entries]):
            entry, above = entries[index], entries[index - 1]
            where = f"section [{section.name}] of " if section.name else ""
            findings.append(
                Finding(
                    "order",
                    entry.key_line,
                    entry.key,
                    f"{entry.key} should come before {above.key} in {where}"
                    f"{literal.name}; run `scaffold check --fix`",
                    related=above.key,
                )
            )
    return findings


def duplicate_findings(literal: DictLiteral) -> list[Finding]:
    """A ``duplicate`` finding for each repeat of a key within one dict.

    Frozen regions count too: a repeated key silently drops a registration
    whatever the layout.
    """
    first_line: dict[str, int] = {}
    findings = []
    for entry in literal.entries:
        if entry.key not in first_line:
            first_line[entry.key] = entry.key_line
            continue
        findings.append(
            Finding(
                "duplicate",
                entry.key_line,
                entry.key,
                f"{entry.key} is already in {literal.name} at line "
                f"{first_line[entry.key]}; remove one of them",
            )
        )
    return findings
