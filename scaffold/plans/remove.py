"""Plan ``scaffold remove``: undo what ``new-model`` added for one architecture.

Only what is there to undo goes. The registry entry goes from its kind dict
(``--kind`` names it when several dicts register the architecture, as
``new-model --kind embedding --alias-of`` does for a causal LM); its example
entry and docs row (or its part of a shared row) go with it. The model module
goes only when ``new-model`` could have written it (the entry names a class
of the architecture's own name: an alias never created the file it points
at), no registry entry uses it any more and no other file of the package
imports it; with it goes the parity test generated for it. Nothing is
written here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from scaffold.docs import remove_arch
from scaffold.errors import ScaffoldError, located
from scaffold.modelfile import importers_of
from scaffold.plan import Plan
from scaffold.pydict import parse_source, remove_entry
from scaffold.registry import Kind, RegistryView, dicts_holding
from scaffold.textio import SourceText, is_present, read_source
from scaffold.tree import Tree


def plan_remove(tree: Tree, arch: str, kind_name: str | None = None) -> Plan:
    """Every change that removes ``arch`` (from kind ``kind_name`` alone if given).

    ScaffoldError if it is not registered there, or if it is registered in
    several kinds and ``kind_name`` does not say which.
    """
    plan = Plan(tree.root)
    registry = read_source(tree.registry_path)
    with located(tree.relative(tree.registry_path)):
        view = RegistryView(parse_source(registry.text))
        kind = _kind_to_remove(view, arch, kind_name)
        own_modules = {
            entry.pair[0]
            for entry in view.parsed.dicts[kind.registry_dict].find(arch)
            if entry.pair and entry.pair[1] == arch  # an alias created no file
        }
        new_registry = remove_entry(registry.text, kind.registry_dict, arch)
        still_used = RegistryView(parse_source(new_registry)).modules_used()
    plan.add(
        tree.registry_path,
        registry.encode(registry.text),
        registry.encode(new_registry),
    )

    for module in sorted(own_modules - still_used):
        _plan_module_removal(tree, module, arch, plan)
    _plan_docs(tree, arch, kind if kind_name else None, plan)
    # Without --kind the architecture leaves the registry: no example may stay.
    examples = [kind.examples_dict] if kind_name else view.example_dicts()
    _plan_examples(tree, arch, examples, plan)
    return plan


def _kind_to_remove(view: RegistryView, arch: str, kind_name: str | None) -> Kind:
    """The one kind ``arch`` goes from; ScaffoldError when that is not clear."""
    holding = set(view.kind_dicts_holding(arch))
    holders = [k for k in view.kinds.values() if k.registry_dict in holding]
    where = " and ".join(f"{k.registry_dict} (--kind {k.name})" for k in holders)
    if kind_name is not None:
        kind = view.kind(kind_name)
        if kind not in holders:
            found = f"it is in {where}" if holders else "it is in no kind dict"
            raise ScaffoldError(
                f"{arch} is not in {kind.registry_dict}; {found} (check --kind)"
            )
        return kind
    if not holders:
        raise ScaffoldError(
            f"{arch} is not registered in any registry dict; nothing to remove "
            "(check the spelling)"
        )
    if len(holders) > 1:
        raise ScaffoldError(
            f"{arch} is registered in {where}; say which with --kind, "
            "and run remove once for each"
        )
    return holders[0]


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


def _plan_docs(tree: Tree, arch: str, kind: Kind | None, plan: Plan) -> None:
    """Take ``arch`` out of the docs: ``kind``'s table only, or every page.

    Without a kind the architecture leaves the registry altogether, so a row
    naming it anywhere (pooling pages too) would be stale.
    """
    table_kind = None
    if kind is None:
        pages = tree.docs_pages()
    else:
        page = tree.docs_page_of(kind.pooling_docs)
        pages = [page] if is_present(page) else []
        # On a kind's own page (pooling_models/embed.md) every table is its own.
        table_kind = kind.name if page == tree.docs_path else None
    if not pages:
        plan.notes.append(f"{tree.relative(tree.docs_path)} not found; no docs row")
    changed = False
    for page in pages:
        source = read_source(page)
        with located(tree.relative(page)):
            new = remove_arch(source.text, arch, kind=table_kind)
        changed = changed or new != source.text
        plan.add(page, source.encode(source.text), source.encode(new))
    if pages and not changed:
        plan.notes.append(f"{tree.relative(tree.docs_path)}: no docs row to remove")


def _plan_examples(tree: Tree, arch: str, dict_names: list[str], plan: Plan) -> None:
    def edit(text: str) -> str:
        for name in dicts_holding(parse_source(text), dict_names, arch):
            text = remove_entry(text, name, arch)
        return text

    _plan_optional_edit(tree, tree.examples_path, plan, "example entry", edit)


def _plan_optional_edit(
    tree: Tree, path: Path, plan: Plan, what: str, edit: Callable[[str], str]
) -> None:
    """Plan ``edit`` of a file the tree may lack (a note, then, as for no change)."""
    where = tree.relative(path)
    if not is_present(path):
        plan.notes.append(f"{where} not found; no {what} to remove")
        return
    source = read_source(path)
    with located(where):
        new = edit(source.text)
    if new == source.text:
        plan.notes.append(f"{where}: no {what} to remove")
    plan.add(path, source.encode(source.text), source.encode(new))
