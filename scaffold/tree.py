"""Find a vLLM-shaped source tree and the four places an architecture lives."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from scaffold.errors import ScaffoldError
from scaffold.textio import is_present

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

REGISTRY_GLOB = "*/model_executor/models/registry.py"

# The engine's own tests: upstream vLLM has its own harness, every other
# (stub-shaped) tree gets a parity test against transformers.
UPSTREAM_PACKAGE = "vllm"


@dataclass(frozen=True)
class Tree:
    """A source tree: its root folder and the package holding the registry."""

    root: Path
    package: str

    @property
    def models_dir(self) -> Path:
        """``<pkg>/model_executor/models``."""
        return self.root / self.package / "model_executor" / "models"

    @property
    def registry_path(self) -> Path:
        """The registry module whose dicts map architectures to classes."""
        return self.models_dir / "registry.py"

    @property
    def docs_path(self) -> Path:
        """The supported-models page (may be missing: reported, not fatal)."""
        return self.root / "docs" / "models" / "supported_models.md"

    @property
    def pooling_docs_dir(self) -> Path:
        """Upstream's per-usage pages of pooling models (may be missing)."""
        return self.root / "docs" / "models" / "pooling_models"

    def docs_pages(self) -> list[Path]:
        """Every docs page with architecture tables that exists."""
        pages = [self.docs_path, *sorted(self.pooling_docs_dir.glob("*.md"))]
        return [page for page in pages if is_present(page)]

    def docs_page_of(self, pooling_docs: str | None) -> Path:
        """A kind's docs page: its pooling page when it has one, else the main one.

        ``pooling_docs`` is :attr:`scaffold.registry.Kind.pooling_docs`.
        """
        if pooling_docs:
            page = self.pooling_docs_dir / f"{pooling_docs}.md"
            if page.is_file():
                return page
        return self.docs_path

    @property
    def examples_path(self) -> Path:
        """The HF example entries (may be missing: reported, not fatal)."""
        return self.root / "tests" / "models" / "registry.py"

    def module_path(self, module: str) -> Path:
        """The file of model module ``module`` (a name, never a path)."""
        return self.models_dir / f"{module}.py"

    def registered_module_file(self, module: str) -> Path | None:
        """The file a registry entry's module names, or None when there is none.

        As upstream's ``_resolve_module_name``: a value starting with the
        package name (``"vllm.models.beam"``) is an absolute module, any other
        a module under ``models/``; either may be a file or a package folder.
        """
        if module.startswith(f"{self.package}."):
            base = self.root.joinpath(*module.split("."))
        else:
            base = self.models_dir.joinpath(*module.split("."))
        for candidate in (base.with_name(f"{base.name}.py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None

    def generated_test_path(self, module: str) -> Path | None:
        """The parity test ``new-model`` writes for ``module``; None for vLLM."""
        if self.package == UPSTREAM_PACKAGE:
            return None
        return self.root / "tests" / "models" / f"test_{module}.py"

    def relative(self, path: Path) -> str:
        """``path`` as messages print it: relative to where the user stands.

        From the tree root or any folder above or inside it, that is the path
        a shell there (and an editor's "go to file:line") understands. From a
        folder outside the tree (``--root ../vllm``), it is relative to the
        root the user named instead of a run of ``../``.
        """
        here = Path.cwd()
        if here == self.root or self.root in here.parents or here in self.root.parents:
            return Path(os.path.relpath(path, here)).as_posix()
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def configured_key(self) -> str | None:
        """``[tool.scaffold] key`` from the root's ``pyproject.toml``, if set."""
        pyproject = self.root / "pyproject.toml"
        if not pyproject.is_file():
            return None
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ScaffoldError(
                f"cannot read [tool.scaffold]: {exc}", path=str(pyproject)
            ) from None
        return data.get("tool", {}).get("scaffold", {}).get("key")


def _tree_at(folder: Path) -> Tree | None:
    registries = sorted(folder.glob(REGISTRY_GLOB))
    if not registries:
        return None
    if len(registries) > 1:
        names = ", ".join(p.parts[-4] for p in registries)
        raise ScaffoldError(
            f"several packages hold a registry ({names}); keep one per tree",
            path=str(folder),
        )
    return Tree(root=folder, package=registries[0].parts[-4])


def find_tree(root: str | Path | None = None, cwd: Path | None = None) -> Tree:
    """The tree at ``root``, else the first folder up from ``cwd`` holding one."""
    if root is not None:
        folder = Path(root).resolve()
        if not folder.exists():
            raise ScaffoldError(
                "--root: no such folder (pass the folder that holds the package)",
                path=str(root),
            )
        tree = _tree_at(folder) if folder.is_dir() else None
        if tree is None:
            raise ScaffoldError(
                f"no {REGISTRY_GLOB} here (pass --root the folder that holds "
                "the package, e.g. a vLLM checkout)",
                path=str(folder),
            )
        return tree
    start = (cwd or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        tree = _tree_at(folder)
        if tree is not None:
            return tree
    raise ScaffoldError(
        f"no {REGISTRY_GLOB} in this folder or above it (run inside a "
        "vLLM-shaped tree or pass --root)",
        path=str(start),
    )
