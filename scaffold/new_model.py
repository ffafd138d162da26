"""Plan the four edits of ``scaffold new-model``: model file, registry, docs, examples.

Everything is computed from the files' current text; nothing is written here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scaffold.clone import clone_model
from scaffold.dict_editor import insert_entry
from scaffold.docs_edit import NewRow, insert_row
from scaffold.errors import ScaffoldError, located
from scaffold.modules import defined_classes
from scaffold.names import family_of
from scaffold.ordering import SortKey, get_key
from scaffold.plan import Plan
from scaffold.pydict import parse_source
from scaffold.registry_entries import example_value, registry_value
from scaffold.render import render, todo_items
from scaffold.textio import read_source
from scaffold.tree import KINDS, Tree

# The engine's own tests: upstream vLLM has its own harness, every other
# (stub-shaped) tree gets a parity test against transformers.
UPSTREAM_PACKAGE = "vllm"


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
    key: str = "family"
    force: bool = False


@dataclass
class NewModelPlan:
    """The plan plus the checklist printed after it is applied."""

    plan: Plan
    checklist: list[str]


def plan_new_model(tree: Tree, request: NewModel) -> NewModelPlan:
    """Every change ``new-model`` makes, or ScaffoldError (and nothing planned)."""
    registry_dict, examples_dict = KINDS[request.kind]
    sort_key = get_key(request.key)
    plan = Plan(tree.root)
    checklist: list[str] = []
    module = request.alias_of[0] if request.alias_of else request.module
    class_name = request.alias_of[1] if request.alias_of else request.class_name

    registry = read_source(tree.registry_path)
    with located(tree.relative(tree.registry_path)):
        new_registry = insert_entry(
            registry.text,
            registry_dict,
            request.arch,
            registry_value(module, class_name),
            sort_key,
            request.section,
        )
    plan.add(
        tree.registry_path,
        registry.encode(registry.text),
        registry.encode(new_registry),
    )

    if request.alias_of:
        bases = _aliased_class_bases(tree, module, class_name)
    else:
        bases = _plan_model_files(tree, request, plan, checklist)

    _plan_docs(tree, request, plan, bases)
    _plan_example(tree, request, examples_dict, sort_key, plan)
    return NewModelPlan(plan, checklist)


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


def generated_test_path(tree: Tree, module: str) -> Path | None:
    """The parity test ``new-model`` writes for ``module``; None for upstream vLLM."""
    if tree.package == UPSTREAM_PACKAGE:
        return None
    return tree.root / "tests" / "models" / f"test_{module}.py"


def _plan_model_files(
    tree: Tree, request: NewModel, plan: Plan, checklist: list[str]
) -> list[str]:
    """Plan the model file (and its test); return the model class's bases."""
    variables = {
        "package": tree.package,
        "family": family_of(request.class_name),
        "class_name": request.class_name,
        "arch": request.arch,
        "module": request.module,
    }
    model_path = tree.module_path(request.module)
    bases = ["SupportsLoRA", "SupportsPP"]  # what the template's class mixes in
    if request.clone_from:
        clone = clone_model(tree, request.clone_from, request.class_name)
        outputs = [(model_path, clone.text)]
        bases = clone.bases
        checklist += [
            f"{tree.relative(model_path)}:{line}: still names {clone.old_family}: "
            f"{text}"
            for line, text in clone.leftovers
        ]
    else:
        outputs = [(model_path, render("model.py.jinja", **variables))]
    test_path = generated_test_path(tree, request.module)
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
        checklist += [
            f"{tree.relative(path)}:{line}: {item}" for line, item in todo_items(text)
        ]
    return bases


def _plan_docs(tree: Tree, request: NewModel, plan: Plan, bases: list[str]) -> None:
    path = tree.docs_path
    where = tree.relative(path)
    if not path.is_file():
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
        new = insert_row(docs.text, request.kind, row, key=request.key)
    if new is None:
        plan.notes.append(f"{where}: no {request.kind} table; no docs row added")
        return
    plan.add(path, docs.encode(docs.text), docs.encode(new))


def _plan_example(
    tree: Tree, request: NewModel, dict_name: str, sort_key: SortKey, plan: Plan
) -> None:
    path = tree.examples_path
    where = tree.relative(path)
    if not path.is_file():
        plan.notes.append(f"{where} not found; no example entry added")
        return
    examples = read_source(path)
    value = example_value(
        request.hf_example or None, trust_remote_code=request.trust_remote_code
    )
    with located(where):
        parsed = parse_source(examples.text)
        if dict_name not in parsed.dicts and dict_name not in parsed.non_dicts:
            plan.notes.append(f"{where}: no {dict_name}; no example entry added")
            return
        # The examples file mirrors the registry's sections only loosely.
        sections = {s.name for s in parsed.require(dict_name).sections}
        section = request.section if request.section in sections else None
        new = insert_entry(
            examples.text,
            dict_name,
            request.arch,
            value,
            sort_key,
            section,
            parsed=parsed,
        )
    plan.add(path, examples.encode(examples.text), examples.encode(new))
