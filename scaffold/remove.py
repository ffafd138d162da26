"""Plan ``scaffold remove``: undo what ``new-model`` added for one architecture.

The registry entry goes from every kind dict that holds it, and so do the
example entries; the docs lose the architecture's row (or its part of a
shared row). The model module goes only when no registry entry uses it any
more and no other model file imports it, and with it the parity test
``new-model`` generated for it. Nothing is written here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from scaffold.dict_editor import remove_entry
from scaffold.docs_edit import remove_arch
from scaffold.errors import ScaffoldError, located
from scaffold.new_model import generated_test_path
from scaffold.plan import Plan
from scaffold.pydict import SourceDicts, parse_source
from scaffold.textio import SourceText, read_source
from scaffold.tree import KINDS, Tree


def plan_remove(tree: Tree, arch: str) -> Plan:
    """Every change that removes ``arch``; ScaffoldError if it is not registered."""
    plan = Plan(tree.root)
    registry_where = tree.relative(tree.registry_path)
    registry = read_source(tree.registry_path)
    with located(registry_where):
        parsed = parse_source(registry.text)
        holders = _dicts_holding(parsed, [names[0] for names in KINDS.values()], arch)
        if not holders:
            raise ScaffoldError(
                f"{arch} is not registered in any registry dict; nothing to remove "
                "(check the spelling)"
            )
        modules = {
            entry.pair[0]
            for name in holders
            for entry in parsed.dicts[name].find(arch)
            if entry.pair
        }
        new_registry = _remove_from(registry.text, holders, arch)
        still_used = _modules_used(parse_source(new_registry))
    plan.add(
        tree.registry_path,
        registry.encode(registry.text),
        registry.encode(new_registry),
    )

    for module in sorted(modules - still_used):
        _plan_module_removal(tree, module, arch, plan)
    _plan_docs(tree, arch, plan)
    _plan_examples(tree, arch, plan)
    return plan


def _dicts_holding(parsed: SourceDicts, names: list[str], key: str) -> list[str]:
    return [
        name for name in names if name in parsed.dicts and parsed.dicts[name].find(key)
    ]


def _remove_from(text: str, dict_names: list[str], key: str) -> str:
    for name in dict_names:
        text = remove_entry(text, name, key)
    return text


def _modules_used(parsed: SourceDicts) -> set[str]:
    """Modules that some registry entry (of any dict) still points at."""
    return {
        entry.pair[0]
        for literal in parsed.dicts.values()
        for entry in literal.entries
        if entry.pair
    }


def _importers(tree: Tree, module: str) -> list[str]:
    """Other model files that import ``module`` (deleting it would break them)."""
    pattern = re.compile(
        rf"^\s*from\s+(\.|[\w.]*\.models\.){module}\s+import\b"
        rf"|^\s*import\s+[\w.]*\.models\.{module}\b"
        rf"|^\s*from\s+(\.|[\w.]*\.models)\s+import\s+[\w\s,(]*\b{module}\b",
        re.MULTILINE,
    )
    others = sorted(set(tree.models_dir.glob("*.py")) - {tree.module_path(module)})
    return [
        tree.relative(path)
        for path in others
        if pattern.search(path.read_text("utf-8", "replace"))
    ]


def _plan_module_removal(tree: Tree, module: str, arch: str, plan: Plan) -> None:
    path = tree.module_path(module)
    where = tree.relative(path)
    if not path.is_file():
        plan.notes.append(f"{where} not found; no model file to delete")
        return
    importers = _importers(tree, module)
    if importers:
        plan.notes.append(f"kept {where}: imported by {', '.join(importers)}")
        return
    _plan_delete(plan, path)
    test_path = generated_test_path(tree, module)
    if test_path is None or not test_path.is_file():
        return
    test = read_source(test_path)
    # Generated for this model: it names the architecture it checks.
    if arch in test.text:
        _plan_delete(plan, test_path, test)
    else:
        plan.notes.append(f"kept {tree.relative(test_path)}: it does not test {arch}")


def _plan_delete(plan: Plan, path: Path, source: SourceText | None = None) -> None:
    source = source or read_source(path)
    plan.add(path, source.encode(source.text), None)


def _plan_docs(tree: Tree, arch: str, plan: Plan) -> None:
    _plan_optional_edit(
        tree, tree.docs_path, plan, "docs row", lambda text: remove_arch(text, arch)
    )


def _plan_examples(tree: Tree, arch: str, plan: Plan) -> None:
    dict_names = [names[1] for names in KINDS.values()]

    def edit(text: str) -> str:
        holders = _dicts_holding(parse_source(text), dict_names, arch)
        return _remove_from(text, holders, arch)

    _plan_optional_edit(tree, tree.examples_path, plan, "example entry", edit)


def _plan_optional_edit(
    tree: Tree, path: Path, plan: Plan, what: str, edit: Callable[[str], str]
) -> None:
    """Plan ``edit`` of a file the tree may lack (a note, then, as for no change)."""
    where = tree.relative(path)
    if not path.is_file():
        plan.notes.append(f"{where} not found; no {what} to remove")
        return
    source = read_source(path)
    with located(where):
        new = edit(source.text)
    if new == source.text:
        plan.notes.append(f"{where}: no {what} to remove")
    plan.add(path, source.encode(source.text), source.encode(new))
