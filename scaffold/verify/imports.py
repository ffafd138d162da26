"""What a tree's model file imports from its package, read with ``ast``.

``scaffold verify`` in a vLLM checkout runs the tree's model files on
vllm_stub; before anything is built, the files' module-level imports are
listed here (following the tree's own model modules they import, such as
``mistral`` -> ``llama``), so that every name the stub lacks is reported at
once. Imports under ``if TYPE_CHECKING:``, inside functions, or in a ``try``
that catches ImportError do not run when the module loads and are skipped.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from scaffold.errors import ScaffoldError

MODELS = "model_executor.models"
_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


@dataclass(frozen=True)
class ImportUse:
    """``from module import name`` (``name`` None: ``import module``) at a line."""

    module: str
    name: str | None
    path: Path
    line: int


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _catches_import_errors(node: ast.Try) -> bool:
    for handler in node.handlers:
        types = handler.type
        names = types.elts if isinstance(types, ast.Tuple) else [types]
        if types is None or any(
            isinstance(n, ast.Name) and n.id in _IMPORT_ERRORS for n in names
        ):
            return True
    return False


def _load_time_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements that run when a module with ``body`` loads."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _load_time_imports(node.body)
            yield from _load_time_imports(node.orelse)
        elif isinstance(node, ast.Try):
            if not _catches_import_errors(node):
                yield from _load_time_imports(node.body)
            yield from _load_time_imports(node.orelse + node.finalbody)


class ModelImports:
    """The package imports of a tree's model modules, tree modules followed."""

    def __init__(self, models_dir: Path, package: str, support: frozenset[str]) -> None:
        self.models_dir = models_dir
        self.package = package
        self.models_package = f"{package}.{MODELS}"
        self.support = support  # models/ modules the stub provides (utils...)

    def tree_file(self, dotted: str) -> Path | None:
        """The tree file of model module ``dotted``; None for anything else."""
        prefix = self.models_package + "."
        if not dotted.startswith(prefix):
            return None
        parts = dotted[len(prefix) :].split(".")
        if parts[0] in self.support:
            return None
        base = self.models_dir.joinpath(*parts)
        for candidate in (base.with_name(f"{base.name}.py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None

    def of(self, start: Path, rel: Callable[[Path], str]) -> list[ImportUse]:
        """Every package import that loading model file ``start`` runs.

        ``rel`` turns a path into how messages print it; a file that does not
        parse is a ScaffoldError naming it and its line.
        """
        uses: list[ImportUse] = []
        seen: set[Path] = set()
        todo = [start]
        while todo:
            path = todo.pop()
            if path in seen:
                continue
            seen.add(path)
            for use in self._file_imports(path, rel):
                for dotted in (use.module, f"{use.module}.{use.name}"):
                    if (found := self.tree_file(dotted)) is not None:
                        todo.append(found)
                        break
                else:
                    uses.append(use)
        return uses

    def _file_imports(
        self, path: Path, rel: Callable[[Path], str]
    ) -> Iterator[ImportUse]:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except SyntaxError as exc:
            raise ScaffoldError(
                f"syntax error: {exc.msg}; fix the file, then verify again",
                path=rel(path),
                line=exc.lineno,
            ) from None
        package = self._package_of(path)
        for node in _load_time_imports(tree.body):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if self._ours(alias.name):
                        yield ImportUse(alias.name, None, path, node.lineno)
                continue
            base = "." * node.level + (node.module or "")
            dotted = importlib.util.resolve_name(base, package) if node.level else base
            if self._ours(dotted):
                for alias in node.names:
                    yield ImportUse(dotted, alias.name, path, node.lineno)

    def _ours(self, dotted: str) -> bool:
        return dotted == self.package or dotted.startswith(self.package + ".")

    def _package_of(self, path: Path) -> str:
        """The package a model file's relative imports start from."""
        # models/x.py and models/x/__init__.py import relative to ...models
        # and ...models.x respectively; models/x/y.py relative to ...models.x
        parts = path.relative_to(self.models_dir).with_suffix("").parts[:-1]
        return ".".join([self.models_package, *parts])
