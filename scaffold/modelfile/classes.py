"""What model files define and import, read by parsing (never by importing)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from scaffold.errors import ScaffoldError


def _parse(source: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as error:
        raise ScaffoldError(f"cannot parse: {error.msg}", line=error.lineno) from None


def defined_classes(source: str) -> dict[str, list[str]]:
    """Top-level classes of ``source`` and the names of their bases.

    Top-level assignments ``Alias = Other`` count as definitions too (with no
    bases), since vLLM files sometimes alias a class under a second name.
    """
    classes: dict[str, list[str]] = {}
    for node in _parse(source).body:
        if isinstance(node, ast.ClassDef):
            classes[node.name] = [_base_name(base) for base in node.bases]
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    classes.setdefault(target.id, [])
    return classes


def exported_names(source: str) -> set[str]:
    """Names a module offers at top level: its classes and assignments (see
    :func:`defined_classes`) and what it imports (re-exports such as a
    package's ``from .model import BeamForCausalLM``), including imports made
    under a top-level ``if``/``try`` (upstream picks a platform's class so)."""
    names: set[str] = set()
    pending = list(_parse(source).body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.ImportFrom | ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.If | ast.Try):
            pending += [*node.body, *node.orelse, *getattr(node, "finalbody", [])]
            pending += [s for h in getattr(node, "handlers", []) for s in h.body]
        elif isinstance(node, ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _base_name(base: ast.expr) -> str:
    if isinstance(base, ast.Attribute):
        return base.attr
    if isinstance(base, ast.Call):
        return _base_name(base.func)
    return base.id if isinstance(base, ast.Name) else ""


def _dotted(package_root: Path, path: Path) -> list[str]:
    """The package parts of ``path``'s own package (``vllm.x`` for vllm/x/a.py)."""
    # A module's package is its folder, __init__.py's included.
    return list(path.parent.relative_to(package_root.parent).parts)


def _imports(tree: ast.Module, own_package: list[str]) -> set[str]:
    """Every module a parsed file imports, as absolute dotted names.

    ``from pkg import name`` counts as importing both ``pkg`` and ``pkg.name``:
    the name may be a submodule, and a false "imported" only keeps a file.
    """
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            # level 1 is the file's own package, each further dot one up
            base = (
                own_package[: len(own_package) + 1 - node.level] if node.level else []
            )
            module = ".".join([*base, *(node.module or "").split(".")]).strip(".")
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def importers_of(package_root: Path, target: str, exclude: Path) -> list[Path]:
    """Files under ``package_root`` (other than ``exclude``) importing ``target``.

    ``target`` is a dotted module name such as
    ``vllm.model_executor.models.llama``; importing a submodule of it counts.
    Files that do not mention its last part are not parsed at all.
    """
    last = re.compile(rf"\b{re.escape(target.rsplit('.', 1)[-1])}\b")
    importers = []
    for path in sorted(package_root.rglob("*.py")):
        if path == exclude:
            continue
        source = path.read_text("utf-8", "replace")
        if not last.search(source):
            continue
        try:
            imported = _imports(ast.parse(source), _dotted(package_root, path))
        except SyntaxError:
            continue  # not ours to judge; it cannot import anything anyway
        if any(name == target or name.startswith(f"{target}.") for name in imported):
            importers.append(path)
    return importers
