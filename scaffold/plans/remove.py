"""Plan ``scaffold remove``: undo what ``new-model`` added for one architecture.

The registry entry goes from every kind dict that holds it, and so do the
example entries; the docs lose the architecture's row (or its part of a
shared row). The model module goes only when no registry entry uses it any
more and no other file of the package imports it, and with it the parity test
``new-model`` generated for it. Nothing is written here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from scaffold.docs import remove_arch
from scaffold.errors import ScaffoldError, located
from scaffold.modelfile import importers_of
from scaffold.plan import Plan
from scaffold.pydict import parse_source, remove_entry
from scaffold.registry import RegistryView, dicts_holding
from scaffold.textio import SourceText, read_source
from scaffold.tree import Tree


def plan_remove(tree: Tree, arch: str) -> Plan:
    """Every change that removes ``arch``; ScaffoldError if it is not registered."""
    plan = Plan(tree.root)
    registry_where = tree.relative(tree.registry_path)
    registry = read_source(tree.registry_path)
    with located(registry_where):
        view = RegistryView(parse_source(registry.text))
        holders = view.kind_dicts_holding(arch)
        if not holders:
            raise ScaffoldError(
                f"{arch} is not registered in any registry dict; nothing to remove "
                "(check the spelling)"
            )
        modules = {
            entry.pair[0]
            for name in holders
            for entry in view.parsed.dicts[name].find(arch)
            if entry.pair
        }
        new_registry = _remove_from(registry.text, holders, arch)
        still_used = RegistryView(parse_source(new_registry)).modules_used()
    plan.add(
        tree.registry_path,
        registry.encode(registry.text),
        registry.encode(new_registry),
    )

    for module in sorted(modules - still_used):
        _plan_module_removal(tree, module, arch, plan)
    _plan_docs(tree, arch, plan)
    _plan_examples(tree, arch, view.example_dicts(), plan)
    return plan


def _remove_from(text: str, dict_names: list[str], key: str) -> str:
    for name in dict_names:
        text = remove_entry(text, name, key)
    return text


def _importers(tree: Tree, module: str) -> list[str]:
    """Files of the package that import ``module`` (deleting it would break them)."""
    target = f"{tree.package}.model_executor.models.{module}"
    package_root = tree.root / tree.package
    importers = importers_of(package_root, target, exclude=tree.module_path(module))
    return [tree.relative(path) for path in importers]


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
    test_path = tree.generated_test_path(module)
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
    """Take ``arch`` out of every docs page that names it (pooling pages too)."""
    pages = tree.docs_pages()
    if not pages:
        plan.notes.append(f"{tree.relative(tree.docs_path)} not found; no docs row")
    changed = False
    for page in pages:
        source = read_source(page)
        with located(tree.relative(page)):
            new = remove_arch(source.text, arch)
        changed = changed or new != source.text
        plan.add(page, source.encode(source.text), source.encode(new))
    if pages and not changed:
        plan.notes.append(f"{tree.relative(tree.docs_path)}: no docs row to remove")


def _plan_examples(tree: Tree, arch: str, dict_names: list[str], plan: Plan) -> None:
    def edit(text: str) -> str:
        holders = dicts_holding(parse_source(text), dict_names, arch)
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
