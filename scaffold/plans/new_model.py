"""Plan the four edits of ``scaffold new-model``: model file, registry, docs, examples.

Everything is computed from the files' current text; nothing is written here.
"""

from __future__ import annotations

from dataclasses import dataclass

from scaffold.docs import NewRow, insert_row
from scaffold.errors import ScaffoldError, located
from scaffold.modelfile import clone_model, defined_classes, render, todo_items
from scaffold.modelfile.conventions import tree_conventions
from scaffold.names import family_of
from scaffold.ordering import SortKey, family_key
from scaffold.plan import Plan
from scaffold.pydict import (
    DictLiteral,
    example_value,
    insert_entry,
    parse_source,
    registry_value,
)
from scaffold.registry import Kind, RegistryView
from scaffold.textio import is_present, read_source
from scaffold.tree import Tree


@dataclass(frozen=True)
class NewModel:
    """What the user asked for, validated."""

    arch: str
    kind: str = "text-generation"
    module: str = ""
    class_name: str = ""
    section: str | None = None
    alias_of: tuple[str, str] | None = None
    clone_from: str | None = None  # --from: the in-tree module to clone
    models: str = ""
    hf_example: str = ""
    inputs: str = "T"
    trust_remote_code: bool = False
    sort_key: SortKey = family_key
    force: bool = False


def plan_new_model(tree: Tree, request: NewModel) -> Plan:
    """Every change ``new-model`` makes, or ScaffoldError (and nothing planned)."""
    plan = Plan(tree.root)
    module = request.alias_of[0] if request.alias_of else request.module
    class_name = request.alias_of[1] if request.alias_of else request.class_name

    registry = read_source(tree.registry_path)
    with located(tree.relative(tree.registry_path)):
        parsed = parse_source(registry.text)
        view = RegistryView(parsed)
        kind = view.kind(request.kind)
        literal = parsed.require(kind.registry_dict)
        new_registry = insert_entry(
            registry.text,
            kind.registry_dict,
            request.arch,
            registry_value(module, class_name),
            request.sort_key,
            section_for(literal, request.section, request.arch, strict=True),
            parsed=parsed,
        )
    plan.add(
        tree.registry_path,
        registry.encode(registry.text),
        registry.encode(new_registry),
    )

    if request.alias_of:
        bases = _aliased_class_bases(tree, module, class_name)
    else:
        _refuse_non_model_module(tree, request.module, view.modules_used())
        bases = _plan_model_files(tree, request, kind, plan)

    _plan_docs(tree, kind, request, plan, bases)
    _plan_example(tree, request, kind.examples_dict, section_names(literal), plan)
    return plan


def section_for(
    literal: DictLiteral, requested: str | None, arch: str, *, strict: bool
) -> str | None:
    """The section of ``literal`` that ``arch`` goes into (None: the default).

    Sections are per file: upstream's ``_SPECULATIVE_DECODING_MODELS`` has
    none while its examples dict has ``[Eagle]``, ``[MTP]``, ... So a
    ``--section`` applies to a dict that has named sections, and is ignored
    by one that has none; a ``strict`` dict (the registry) that has sections
    but not this one lets :func:`insert_entry` refuse it, a lenient one (the
    examples, which mirror the registry only loosely) takes its default.
    Without ``--section``, a section whose name is part of the architecture
    (``OrcaMTPModel`` -> ``[MTP]``; the longest such name) is chosen.
    """
    names = section_names(literal)
    if requested is not None and (requested in names or (strict and names)):
        return requested
    matching = [name for name in names if name.casefold() in arch.casefold()]
    return max(matching, key=len, default=None)


def section_names(literal: DictLiteral) -> set[str]:
    """The named sections of ``literal`` one can insert into."""
    return {s.name for s in literal.sections if s.name is not None and not s.frozen}


def _aliased_class_bases(tree: Tree, module: str, class_name: str) -> list[str]:
    path = tree.module_path(module)
    where = tree.relative(path)
    if not path.is_file():
        raise ScaffoldError(
            f"--alias-of {module}:{class_name}: no module file {where} "
            "(name an existing model module)"
        )
    with located(where):
        classes = defined_classes(read_source(path).text)
    if class_name not in classes:
        raise ScaffoldError(
            f"--alias-of {module}:{class_name}: {where} does not define "
            f"{class_name} (it defines: {', '.join(sorted(classes)) or 'nothing'})"
        )
    return classes[class_name]


# Files of the models package that are not model files, whatever the tree.
NOT_MODEL_MODULES = {"__init__", "registry", "interfaces", "interfaces_base", "utils"}


def _refuse_non_model_module(tree: Tree, module: str, used: set[str]) -> None:
    """Never write over a file that is not a model file, --force or not.

    ``new-model RegistryForCausalLM --force`` (default module ``registry``)
    would otherwise replace the registry itself with the template. A model
    file is one some registry entry points at; any other existing file is
    the package's own (or someone's work in progress) and is left alone.
    """
    path = tree.module_path(module)
    if module in NOT_MODEL_MODULES or (path.exists() and module not in used):
        raise ScaffoldError(
            f"--module {module}: {tree.relative(path)} is not a model file of "
            "this tree and is never overwritten; pass another --module",
            path=tree.relative(path),
        )


def _plan_model_files(
    tree: Tree, request: NewModel, kind: Kind, plan: Plan
) -> list[str]:
    """Plan the model file (and its test); return the model class's bases."""
    variables = {
        "package": tree.package,
        "family": family_of(request.class_name),
        "class_name": request.class_name,
        "arch": request.arch,
        "module": request.module,
        "kind": kind.name,
        "pooling": kind.is_pooling,
    }
    model_path = tree.module_path(request.module)
    bases = ["SupportsLoRA", "SupportsPP"]  # what the template's class mixes in
    if request.clone_from:
        clone = clone_model(tree, request.clone_from, request.class_name)
        outputs = [(model_path, clone.text)]
        bases = clone.bases
        plan.checklist += [
            f"{tree.relative(model_path)}:{line}: still names {clone.old_family}: "
            f"{text}"
            for line, text in clone.leftovers
        ]
    else:
        # The SPDX header and transformers names are the tree's, so the file
        # passes the tree's own hooks (DESIGN §9).
        conventions = tree_conventions(tree).variables()
        outputs = [(model_path, render("model.py.jinja", **variables, **conventions))]
    test_path = tree.generated_test_path(request.module)
    if test_path is not None:
        outputs.append((test_path, render("test_model.py.jinja", **variables)))
    for path, text in outputs:
        if path.exists() and not request.force:
            raise ScaffoldError(
                "already exists (pick another --module, or --force to overwrite, "
                "or --alias-of to reuse it)",
                path=tree.relative(path),
            )
        old = read_source(path) if path.exists() else None
        plan.add(path, old.encode(old.text) if old else None, text)
        plan.checklist += [
            f"{tree.relative(path)}:{line}: {item}" for line, item in todo_items(text)
        ]
    return bases


def _plan_docs(
    tree: Tree, kind: Kind, request: NewModel, plan: Plan, bases: list[str]
) -> None:
    path = tree.docs_page_of(kind.pooling_docs)
    # On a kind's own page (pooling_models/embed.md) its first table is the one.
    table_kind = kind.name if path == tree.docs_path else None
    where = tree.relative(path)
    if not is_present(path):
        plan.notes.append(f"{where} not found; no docs row added")
        return
    docs = read_source(path)
    row = NewRow(
        arch=request.arch,
        models=request.models,
        inputs=request.inputs,
        hf_example=request.hf_example,
        lora="SupportsLoRA" in bases,
        pp="SupportsPP" in bases,
    )
    with located(where):
        new = insert_row(docs.text, table_kind, row, request.sort_key)
    if new is None:
        plan.notes.append(f"{where}: no {kind.name} table; no docs row added")
        return
    plan.add(path, docs.encode(docs.text), docs.encode(new))


def _plan_example(
    tree: Tree,
    request: NewModel,
    dict_name: str,
    registry_sections: set[str],
    plan: Plan,
) -> None:
    path = tree.examples_path
    where = tree.relative(path)
    if not is_present(path):
        plan.notes.append(f"{where} not found; no example entry added")
        return
    examples = read_source(path)
    value = example_value(
        request.hf_example or None, trust_remote_code=request.trust_remote_code
    )
    with located(where):
        parsed = parse_source(examples.text, only={dict_name})
        if dict_name not in parsed.dicts and dict_name not in parsed.non_dicts:
            plan.notes.append(f"{where}: no {dict_name}; no example entry added")
            return
        literal = parsed.require(dict_name)
        # Frozen sections count as known: the name is right, scaffold just
        # may not write there, so the entry takes the default section.
        frozen = {s.name for s in literal.sections if s.frozen and s.name}
        known = registry_sections | section_names(literal) | frozen
        if request.section is not None and request.section not in known:
            raise ScaffoldError(
                f"--section {request.section!r}: neither the registry dict nor "
                f"{dict_name} has it (known: {', '.join(sorted(known)) or 'none'})"
            )
        if request.section in frozen - section_names(literal):
            plan.notes.append(
                f"{where}: [{request.section}] of {dict_name} is frozen "
                "(# scaffold: off); the example went to its default section"
            )
        section = section_for(literal, request.section, request.arch, strict=False)
        new = insert_entry(
            examples.text,
            dict_name,
            request.arch,
            value,
            request.sort_key,
            section,
            parsed=parsed,
        )
    plan.add(path, examples.encode(examples.text), examples.encode(new))
