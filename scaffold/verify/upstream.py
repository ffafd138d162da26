"""``scaffold verify`` in a vLLM checkout: the tree's own model file on vllm_stub.

The engine subprocess (``engine_main``) imports the tree's model modules
through ``alias``'s hook; this module finds ARCH's module and class in the
tree's registry and, before anything is built, reads the files it will load
(``imports``): a syntax error, or names the stub lacks, are reported as one
line each.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scaffold.errors import ScaffoldError
from scaffold.tree import Tree
from scaffold.verify.imports import MODELS, ModelImports


@dataclass(frozen=True)
class TreeModel:
    """Where ARCH's class lives in a vLLM tree, as the subprocess needs it."""

    arch: str
    package: str
    module: str  # the dotted import name: vllm.model_executor.models.llama
    class_name: str
    models_dir: Path

    def argv(self) -> list[str]:
        """``engine_main``'s trailing arguments for this model."""
        return [
            self.package,
            str(self.models_dir),
            self.arch,
            self.module,
            self.class_name,
        ]


def tree_model(tree: Tree, arch: str, pair: tuple[str, str] | None) -> TreeModel:
    """ARCH's registry entry ``(module, class)`` resolved as upstream resolves it."""
    if pair is None:
        raise ScaffoldError(
            f"{arch}'s registry entry is not a (module, class) pair",
            path=tree.relative(tree.registry_path),
        )
    module, class_name = pair
    if not module.startswith(f"{tree.package}."):
        module = f"{tree.package}.{MODELS}.{module}"
    return TreeModel(arch, tree.package, module, class_name, tree.models_dir)


def blocking_imports(tree: Tree, model: TreeModel) -> tuple[Path, list[str]]:
    """The model's file and the names its files import that vllm_stub lacks.

    No names: it loads. A file that does not parse is a ScaffoldError naming
    it and its line.
    """
    from scaffold.verify.alias import stub_lacks, stub_support_modules

    reader = ModelImports(model.models_dir, model.package, stub_support_modules())
    start = reader.tree_file(model.module)
    if start is None:
        raise ScaffoldError(
            f"{model.arch}: {model.module} is no model file under "
            f"{tree.relative(model.models_dir)}; verify runs the tree's model files",
            path=tree.relative(tree.registry_path),
        )
    return start, stub_lacks(reader.of(start, tree.relative), model.package)


def require_runnable(tree: Tree, model: TreeModel) -> None:
    """Refuse, before building anything, a model whose files cannot load."""
    path, missing = blocking_imports(tree, model)
    if missing:
        raise ScaffoldError(
            f"{model.arch} imports what vllm_stub lacks: {', '.join(missing)} "
            "(verify runs a vLLM model file only on what the stub provides)",
            path=tree.relative(path),
        )
