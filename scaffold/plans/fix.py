"""Plan ``scaffold check --fix``: sort every section the check orders."""

from __future__ import annotations

from scaffold.docs import sort_tables
from scaffold.errors import located
from scaffold.ordering import SortKey
from scaffold.plan import Plan
from scaffold.pydict import parse_source, sort_dicts
from scaffold.registry import RegistryView
from scaffold.textio import is_present, read_source
from scaffold.tree import Tree


def plan_fix(tree: Tree, sort_key: SortKey) -> Plan:
    """Sort every section that ``check`` orders: kind dicts, their examples, docs.

    Other dicts (``_TRANSFORMERS_*``, ``_PREVIOUSLY_SUPPORTED_MODELS``, ...)
    are never touched: fix changes only what check reports.
    """
    plan = Plan(tree.root)
    registry = read_source(tree.registry_path)
    with located(tree.relative(tree.registry_path)):
        parsed = parse_source(registry.text)
        view = RegistryView(parsed)
        new = sort_dicts(registry.text, sort_key, view.kind_dicts, parsed=parsed)
    plan.add(tree.registry_path, registry.encode(registry.text), registry.encode(new))
    if is_present(tree.examples_path):
        examples = read_source(tree.examples_path)
        with located(tree.relative(tree.examples_path)):
            new = sort_dicts(examples.text, sort_key, view.example_dicts())
        plan.add(
            tree.examples_path, examples.encode(examples.text), examples.encode(new)
        )
    for page in tree.docs_pages():
        docs = read_source(page)
        new = sort_tables(docs.text, sort_key)
        plan.add(page, docs.encode(docs.text), docs.encode(new))
    return plan
