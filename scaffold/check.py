"""``scaffold check``: read the tree once and report its findings.

The cross-file findings (registry vs docs vs examples vs model modules) are
pure functions over parsed structures; :func:`check_tree` reads the files and
locates them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from scaffold.docs import (
    check_tables,
    docs_extra_findings,
    documented_archs,
    locate_table,
    named_archs,
)
from scaffold.errors import located
from scaffold.findings import Finding
from scaffold.git import file_at
from scaffold.modelfile import exported_names
from scaffold.ordering import SortKey
from scaffold.pydict import (
    DictLiteral,
    Entry,
    SourceDicts,
    duplicate_findings,
    order_findings,
    parse_source,
)
from scaffold.registry import RegistryView
from scaffold.textio import is_present, read_source
from scaffold.tree import Tree


@dataclass
class TreeReport:
    """Findings of one tree, and notes about the parts that are missing."""

    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    registered: set[str] = field(default_factory=set)

    def add(self, path: str, findings: list[Finding]) -> None:
        """Record ``findings`` located in ``path``."""
        self.findings += [finding.at(path) for finding in findings]


def _parse(tree: Tree, path: Path) -> SourceDicts:
    with located(tree.relative(path)):
        return parse_source(read_source(path).text)


def _dict_findings(dicts: dict[str, DictLiteral], sort_key: SortKey) -> list[Finding]:
    return [
        finding
        for literal in dicts.values()
        for finding in order_findings(literal, sort_key) + duplicate_findings(literal)
    ]


def _module_findings(tree: Tree, registered: dict[str, Entry]) -> list[Finding]:
    @cache
    def names_of(module: str) -> tuple[str, set[str] | None]:
        path = tree.registered_module_file(module)
        if path is None:
            return tree.relative(tree.module_path(module)), None
        with located(tree.relative(path)):
            return tree.relative(path), exported_names(read_source(path).text)

    return module_findings(registered, names_of)


def _docs_findings(
    tree: Tree, registry: RegistryView, sort_key: SortKey, report: TreeReport
) -> None:
    registry_where = tree.relative(tree.registry_path)
    pages = {page: read_source(page).text for page in tree.docs_pages()}
    named = {page: named_archs(text) for page, text in pages.items()}
    for page, text in pages.items():
        report.add(tree.relative(page), check_tables(text, sort_key))
    if tree.docs_path in pages:
        # Only the main page: the pooling pages are usage guides that also list
        # checkpoints vLLM converts on the fly (Qwen3ForSequenceClassification),
        # which no registry dict names.
        extra = docs_extra_findings(named[tree.docs_path], registry.registered)
        report.add(tree.relative(tree.docs_path), extra)
    # An architecture may be documented on any page (a cross-encoder's row
    # lives on scoring.md, not classify.md).
    names = {arch for page_archs in named.values() for arch, _ in page_archs}
    documented = documented_archs(names, registry.registered)
    for kind in registry.kinds.values():
        literal = registry.kind_dicts[kind.registry_dict]
        page = tree.docs_page_of(kind.pooling_docs)
        if not literal.entries or page not in pages:
            continue
        own_page = page != tree.docs_path
        if locate_table(pages[page], None if own_page else kind.name) is None:
            report.notes.append(
                f"{tree.relative(page)}: no {kind.name} table; not checked"
            )
            continue
        kind_entries = {e.key: e for e in literal.entries}
        where = f"row in {tree.relative(page)}"
        report.add(
            registry_where,
            missing_findings(kind_entries, documented, "docs-missing", where),
        )


def check_tree(tree: Tree, sort_key: SortKey) -> TreeReport:
    """Every finding of DESIGN §4 for ``tree`` under the ordering ``sort_key``."""
    report = TreeReport()
    registry_where = tree.relative(tree.registry_path)
    registry = RegistryView(_parse(tree, tree.registry_path))
    registered = registry.registered
    report.registered = set(registered)
    # Order and duplicates: only the kind dicts (not _TRANSFORMERS_* lists,
    # merges or _PREVIOUSLY_SUPPORTED_MODELS), so --fix sorts what check reports.
    report.add(registry_where, _dict_findings(registry.kind_dicts, sort_key))
    report.add(registry_where, _module_findings(tree, registered))

    examples_where = tree.relative(tree.examples_path)
    if is_present(tree.examples_path):
        examples = _parse(tree, tree.examples_path)
        paired = {
            name: examples.dicts[name]
            for name in registry.example_dicts()
            if name in examples.dicts
        }
        report.add(examples_where, _dict_findings(paired, sort_key))
        example_archs = {
            entry.key for lit in examples.dicts.values() for entry in lit.entries
        }
        where = f"entry in {examples_where}"
        report.add(
            registry_where,
            missing_findings(registered, example_archs, "example-missing", where),
        )
    else:
        report.notes.append(f"{examples_where} not found; examples not checked")

    if tree.docs_pages():
        _docs_findings(tree, registry, sort_key, report)
    else:
        report.notes.append(f"{tree.relative(tree.docs_path)} not found; not checked")
    report.findings.sort(key=lambda f: (f.path, f.line, f.code, f.arch))
    return report


def archs_added_since(tree: Tree, commit: str, now: set[str]) -> set[str]:
    """Architectures in ``now`` that the registry at ``commit`` did not have."""
    old_text = file_at(tree.root, commit, tree.registry_path)
    if old_text is None:
        return set(now)
    with located(f"{commit[:12]}:{tree.relative(tree.registry_path)}"):
        before = RegistryView(parse_source(old_text)).registered
    return now - set(before)


def only_involving(findings: list[Finding], archs: set[str]) -> list[Finding]:
    """The findings about (or next to) one of ``archs``."""
    return [f for f in findings if f.arch in archs or f.related in archs]


def missing_findings(
    registered: dict[str, Entry], present: Iterable[str], code: str, where: str
) -> list[Finding]:
    """``code`` for each registered architecture not in ``present`` (at its entry)."""
    known = set(present)
    return [
        Finding(
            code,
            entry.key_line,
            arch,
            f"{arch} is registered but has no {where} "
            "(run `scaffold new-model` for new archs, or add it by hand)",
        )
        for arch, entry in registered.items()
        if arch not in known
    ]


def module_findings(
    registered: dict[str, Entry],
    names_of: Callable[[str], tuple[str, set[str] | None]],
) -> list[Finding]:
    """``bad-entry``, ``module-missing`` and ``class-missing`` per registry entry.

    ``names_of(module)`` gives the module's file as shown in messages and the
    names it offers (classes, re-exports), or None when no file exists.
    """
    findings = []
    for arch, entry in registered.items():
        if entry.pair is None:
            findings.append(
                Finding(
                    "bad-entry",
                    entry.key_line,
                    arch,
                    f'{arch}: value is not a ("module", "Class") pair of strings',
                )
            )
            continue
        module, class_name = entry.pair
        where, names = names_of(module)
        if names is None:
            findings.append(
                Finding(
                    "module-missing",
                    entry.key_line,
                    arch,
                    f"{arch}: module {module} has no file (looked for {where})",
                )
            )
        elif class_name not in names:
            findings.append(
                Finding(
                    "class-missing",
                    entry.key_line,
                    arch,
                    f"{arch}: {where} does not define {class_name}",
                )
            )
    return findings
