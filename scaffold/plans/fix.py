"""Plan ``scaffold check --fix``: sort every section the check orders."""

from __future__ import annotations

from scaffold.docs import sort_tables
from scaffold.errors import located
from scaffold.ordering import SortKey
from scaffold.plan import Plan
from scaffold.pydict import sort_dicts
from scaffold.textio import read_source
from scaffold.tree import Tree


def plan_fix(tree: Tree, sort_key: SortKey) -> Plan:
    """Sort every section of the registry, the examples and the docs tables."""
    plan = Plan(tree.root)
    for path in (tree.registry_path, tree.examples_path):
        if path.is_file():
            source = read_source(path)
            with located(tree.relative(path)):
                new = sort_dicts(source.text, sort_key)
            plan.add(path, source.encode(source.text), source.encode(new))
    if tree.docs_path.is_file():
        docs = read_source(tree.docs_path)
        new = sort_tables(docs.text, sort_key)
        plan.add(tree.docs_path, docs.encode(docs.text), docs.encode(new))
    return plan
