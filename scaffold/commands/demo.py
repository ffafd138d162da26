"""``scaffold demo``: the 60-second tour, on a temporary copy of the embedded tree.

Never touches the user's files: every step runs on the copy.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from scaffold.commands import check, new_model
from scaffold.commands.common import command_parser, require_runtime, run
from scaffold.errors import ScaffoldError
from scaffold.tree import Tree, find_tree

ARCH = "MistralForCausalLM"
NEW_MODEL_ARGS = [
    ARCH,
    "--models",
    "Mistral",
    "--hf-example",
    "mistralai/Mistral-7B-v0.1",
]


def copy_tree(tree: Tree, target: Path) -> Tree:
    """Copy the four places an architecture lives (and the config) to ``target``."""
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(tree.root / tree.package, target / tree.package, ignore=ignore)
    for path in (tree.docs_path, tree.examples_path, tree.root / "pyproject.toml"):
        if path.is_file():
            destination = target / path.relative_to(tree.root)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
    return Tree(target, tree.package)


def _step(number: int, title: str) -> None:
    print(f"\n[{number}/4] {title}", flush=True)


def tour(tree: Tree, workdir: Path) -> bool:
    """Run the tour in ``workdir``; True when every step passed."""
    from scaffold.verify import PROMPT, verify  # torch, transformers: only here

    copy = copy_tree(tree, workdir / "tree")
    root = ["--root", str(copy.root)]
    _step(1, f"scaffold new-model {' '.join(NEW_MODEL_ARGS)}")
    ok = new_model.main([*NEW_MODEL_ARGS, *root, "--dry-run"]) == 0
    ok = ok and new_model.main([*NEW_MODEL_ARGS, *root]) == 0
    _step(2, "scaffold check")
    ok = ok and check.main(root) == 0
    print("clean" if ok else "check failed")
    _step(3, f"scaffold verify {ARCH}")
    result = verify(copy, ARCH, None, workdir / "checkpoint")
    print(result.table(ARCH))
    _step(4, "a short greedy generation through the engine")
    print(f"prompt token ids {PROMPT}\n-> generated {result.engine_tokens}")
    return ok and result.passed


def _demo(args: argparse.Namespace) -> int:
    require_runtime("demo")
    tree = find_tree()
    if args.keep:
        keep = Path(args.keep)
        if keep.exists() and any(keep.iterdir()):
            raise ScaffoldError("--keep folder is not empty", path=str(keep))
        keep.mkdir(parents=True, exist_ok=True)
        passed = tour(tree, keep)
    else:
        with tempfile.TemporaryDirectory(prefix="scaffold-demo-") as folder:
            passed = tour(tree, Path(folder))
    print("\ndemo passed" if passed else "\ndemo FAILED")
    return 0 if passed else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 when every step of the tour passed."""
    parser = command_parser("demo", "The tour, on a temporary copy of this tree.")
    parser.add_argument("--keep", metavar="DIR", help="run in DIR and keep it")
    return run(parser, argv, _demo)
