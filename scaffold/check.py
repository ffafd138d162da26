"""``scaffold check``: read the tree once, report findings, plan the fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from scaffold.consistency import docs_extra_findings, missing_findings, module_findings
from scaffold.dict_check import duplicate_findings, order_findings
from scaffold.dict_editor import sort_dicts
from scaffold.dict_model import DictLiteral, Entry, SourceDicts
from scaffold.docs_order import check_tables, sort_tables
from scaffold.docs_table import locate_table, named_archs
from scaffold.errors import located
from scaffold.findings import Finding
from scaffold.git import file_at
from scaffold.modules import defined_classes
from scaffold.ordering import get_key
from scaffold.plan import Plan
from scaffold.pydict import parse_source
from scaffold.textio import read_source
from scaffold.tree import KINDS, Tree


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


def registry_dicts(parsed: SourceDicts) -> dict[str, DictLiteral]:
    """The kind dicts, plus any other dict holding a ``("module", "Class")`` value.

    That leaves out dicts such as upstream's ``_PREVIOUSLY_SUPPORTED_MODELS``
    (architecture -> version string), which register nothing.
    """
    kind_dicts = {registry for registry, _ in KINDS.values()}
    return {
        name: literal
        for name, literal in parsed.dicts.items()
        if name in kind_dicts or any(entry.pair for entry in literal.entries)
    }


def registered_entries(parsed: SourceDicts) -> dict[str, Entry]:
    """Every registered architecture (its first entry wins)."""
    registered: dict[str, Entry] = {}
    for literal in registry_dicts(parsed).values():
        for entry in literal.entries:
            registered.setdefault(entry.key, entry)
    return registered


def _dict_findings(dicts: dict[str, DictLiteral], key: str) -> list[Finding]:
    sort_key = get_key(key)
    return [
        finding
        for literal in dicts.values()
        for finding in order_findings(literal, sort_key) + duplicate_findings(literal)
    ]


def _module_findings(tree: Tree, registered: dict[str, Entry]) -> list[Finding]:
    @cache
    def classes_of(module: str) -> dict[str, list[str]] | None:
        path = tree.module_path(module)
        if not path.is_file():
            return None
        with located(tree.relative(path)):
            return defined_classes(read_source(path).text)

    def module_file(module: str) -> str:
        return tree.relative(tree.module_path(module))

    return module_findings(registered, classes_of, module_file)


def _docs_findings(
    tree: Tree, registry: SourceDicts, key: str, report: TreeReport
) -> None:
    docs_where = tree.relative(tree.docs_path)
    registry_where = tree.relative(tree.registry_path)
    docs = read_source(tree.docs_path).text
    report.add(docs_where, check_tables(docs, key=key))
    docs_archs = named_archs(docs)
    documented = {arch for arch, _ in docs_archs}
    for kind, (dict_name, _) in KINDS.items():
        if dict_name not in registry.dicts or not registry.dicts[dict_name].entries:
            continue
        if locate_table(docs, kind) is None:
            report.notes.append(f"{docs_where}: no {kind} table; not checked")
            continue
        kind_entries = {e.key: e for e in registry.dicts[dict_name].entries}
        where = f"row in {docs_where}"
        report.add(
            registry_where,
            missing_findings(kind_entries, documented, "docs-missing", where),
        )
    registered = registered_entries(registry)
    report.add(docs_where, docs_extra_findings(docs_archs, registered))


def check_tree(tree: Tree, key: str) -> TreeReport:
    """Every finding of DESIGN §4 for ``tree`` under the ordering ``key``."""
    report = TreeReport()
    registry_where = tree.relative(tree.registry_path)
    registry = _parse(tree, tree.registry_path)
    registered = registered_entries(registry)
    report.registered = set(registered)
    report.add(registry_where, _dict_findings(registry_dicts(registry), key))
    report.add(registry_where, _module_findings(tree, registered))

    examples_where = tree.relative(tree.examples_path)
    if tree.examples_path.is_file():
        examples = _parse(tree, tree.examples_path)
        report.add(examples_where, _dict_findings(examples.dicts, key))
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

    if tree.docs_path.is_file():
        _docs_findings(tree, registry, key, report)
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
        before = registered_entries(parse_source(old_text))
    return now - set(before)


def only_involving(findings: list[Finding], archs: set[str]) -> list[Finding]:
    """The findings about (or next to) one of ``archs``."""
    return [f for f in findings if f.arch in archs or f.related in archs]


def plan_fix(tree: Tree, key: str) -> Plan:
    """Sort every section of the registry, the examples and the docs tables."""
    plan = Plan(tree.root)
    sort_key = get_key(key)
    for path in (tree.registry_path, tree.examples_path):
        if path.is_file():
            source = read_source(path)
            with located(tree.relative(path)):
                new = sort_dicts(source.text, sort_key)
            plan.add(path, source.encode(source.text), source.encode(new))
    if tree.docs_path.is_file():
        docs = read_source(tree.docs_path)
        plan.add(
            tree.docs_path,
            docs.encode(docs.text),
            docs.encode(sort_tables(docs.text, key=key)),
        )
    return plan
