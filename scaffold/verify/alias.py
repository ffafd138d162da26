"""Run a vLLM checkout's model files on vllm_stub: an import hook.

Used inside the engine subprocess (``engine_main``). Importing ``vllm.X``
gives ``vllm_stub.X`` itself (the same module object, so classes are shared),
except ``vllm.model_executor.models.NAME`` for a model module: that one is
executed from the tree's own file, so its relative imports (``.utils``,
``.interfaces``) resolve to the stub's support modules in turn. Nothing is
copied and nothing is written into the tree (the caller sets
``sys.dont_write_bytecode``).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType

from scaffold.verify.imports import ImportUse

STUB = "vllm_stub"
MODELS = "model_executor.models"


def stub_support_modules() -> frozenset[str]:
    """The stub's ``models/`` modules that are not model files.

    They (``utils``, ``interfaces``, ``adapters``, ``registry``...) replace
    the tree's namesakes; every other module under ``models/`` is the tree's.
    """
    from vllm_stub.model_executor.models import registry

    folder = Path(registry.__file__).parent
    names = {p.stem for p in folder.glob("*.py")}
    names |= {p.parent.name for p in folder.glob("*/__init__.py")}
    model_modules = {module for module, _ in registry._VLLM_MODELS.values()}
    return frozenset(names - model_modules - {"__init__"})


class _AliasLoader(importlib.abc.Loader):
    """Hands out an already imported module under another name."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return self.module

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the stub module is imported already."""


class TreeOnStubFinder(importlib.abc.MetaPathFinder):
    """``package.*`` -> the tree's model files, else the stub's modules."""

    def __init__(self, models_dir: Path, package: str = "vllm") -> None:
        self.models_dir = models_dir
        self.package = package
        self.models_prefix = f"{package}.{MODELS}."
        self.support = stub_support_modules()

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.package and not fullname.startswith(self.package + "."):
            return None
        if fullname.startswith(self.models_prefix):
            first = fullname[len(self.models_prefix) :].split(".")[0]
            if first not in self.support:
                return self._tree_spec(fullname, path)
        module = _stub_module(STUB + fullname[len(self.package) :])
        if module is None:
            return None  # the stub lacks it: "No module named 'vllm...'"
        return importlib.util.spec_from_loader(fullname, _AliasLoader(module))

    def _tree_spec(
        self, fullname: str, path: Sequence[str] | None
    ) -> importlib.machinery.ModuleSpec | None:
        rest = fullname[len(self.models_prefix) :]
        if "." in rest:  # inside a model package: its __path__ is the tree's
            return importlib.machinery.PathFinder.find_spec(fullname, path)
        package_init = self.models_dir / rest / "__init__.py"
        if package_init.is_file():
            return importlib.util.spec_from_file_location(
                fullname,
                package_init,
                submodule_search_locations=[str(package_init.parent)],
            )
        file = self.models_dir / f"{rest}.py"
        return (
            importlib.util.spec_from_file_location(fullname, file)
            if file.is_file()
            else None
        )


def install(models_dir: Path, package: str = "vllm") -> TreeOnStubFinder:
    """Put the hook first on ``sys.meta_path``; returns it."""
    finder = TreeOnStubFinder(models_dir, package)
    sys.meta_path.insert(0, finder)
    return finder


def stub_lacks(uses: Iterable[ImportUse], package: str = "vllm") -> list[str]:
    """The imported ``package`` names vllm_stub has no counterpart for, sorted.

    A name is found when the stub module has the attribute or a submodule of
    that name; a module the stub lacks is reported as the module.
    """
    missing: set[str] = set()
    for use in uses:
        stub_name = STUB + use.module[len(package) :]
        module = _stub_module(stub_name)
        if module is None:
            missing.add(use.module)
        elif use.name not in (None, "*") and not hasattr(module, use.name):
            if _stub_module(f"{stub_name}.{use.name}") is None:
                missing.add(f"{use.module}.{use.name}")
    return sorted(missing)


def _stub_module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and name.startswith(exc.name):
            return None
        raise
