"""What a model module defines, read by parsing (never by importing)."""

from __future__ import annotations

import ast

from scaffold.errors import ScaffoldError


def defined_classes(source: str) -> dict[str, list[str]]:
    """Top-level classes of ``source`` and the names of their bases.

    Top-level assignments ``Alias = Other`` count as definitions too (with no
    bases), since vLLM files sometimes alias a class under a second name.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise ScaffoldError(f"cannot parse: {error.msg}", line=error.lineno) from None
    classes: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            classes[node.name] = [_base_name(base) for base in node.bases]
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    classes.setdefault(target.id, [])
    return classes


def _base_name(base: ast.expr) -> str:
    if isinstance(base, ast.Attribute):
        return base.attr
    if isinstance(base, ast.Call):
        return _base_name(base.func)
    return base.id if isinstance(base, ast.Name) else ""
