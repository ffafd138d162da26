"""``scaffold demo``: the 60-second tour, on a temporary copy of the embedded tree.

The embedded tree (``vllm_stub``, its docs table and its examples) ships with
the package, so the tour runs from any folder and never touches the user's
files: every step runs on the copy.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import shutil
import tempfile
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

from scaffold.commands import check, new_model
from scaffold.commands.common import command_parser, require_runtime, run
from scaffold.errors import ScaffoldError
from scaffold.tree import Tree

ARCH = "MistralForCausalLM"
NEW_MODEL_ARGS = [
    ARCH,
    "--models",
    "Mistral",
    "--hf-example",
    "mistralai/Mistral-7B-v0.1",
]
PACKAGE = "vllm_stub"
# (where the installed package keeps it, where the tree has it)
EMBEDDED_FILES = [
    ("scaffold.embedded.docs", "supported_models.md", "docs/models"),
    ("scaffold.embedded.examples", "registry.py", "tests/models"),
]


def _installed(package: str, name: str, repo_folder: str) -> Path:
    """A file of the embedded tree: shipped in the wheel, or (an editable or
    source checkout) next to the ``vllm_stub`` package in the repository."""
    with contextlib.suppress(ModuleNotFoundError):
        shipped = Path(str(resources.files(package) / name))
        if shipped.is_file():
            return shipped
    return _package_dir().parent / repo_folder / name


def _package_dir() -> Path:
    spec = importlib.util.find_spec(PACKAGE)  # found, not imported: no torch yet
    if spec is None or not spec.submodule_search_locations:
        raise ScaffoldError(f"the {PACKAGE} package is not installed (pip install .)")
    return Path(next(iter(spec.submodule_search_locations)))


def copy_embedded_tree(target: Path) -> Tree:
    """Write the embedded tree (package, docs table, examples) under ``target``."""
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(_package_dir(), target / PACKAGE, ignore=ignore)
    for package, name, folder in EMBEDDED_FILES:
        destination = target / folder / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_installed(package, name, folder), destination)
    return Tree(target, PACKAGE)


def _step(number: int, title: str) -> None:
    print(f"\n[{number}/4] {title}", flush=True)


def _quietly(command: Callable[[list[str]], int], argv: list[str]) -> tuple[int, str]:
    """Run a command's ``main`` and return its exit code and what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = command(argv)
    return code, out.getvalue()


def diff_summary(diff: str) -> list[str]:
    """One line per file of a unified diff: its path and its +/- line counts."""
    files: list[list] = []
    for line in diff.splitlines():
        if line.startswith("+++ "):
            files.append([line[4:].removeprefix("b/"), 0, 0])
        elif files and line.startswith("+") and not line.startswith("+++"):
            files[-1][1] += 1
        elif files and line.startswith("-") and not line.startswith("---"):
            files[-1][2] += 1
    return [f"  {path}  +{added} -{removed}" for path, added, removed in files]


def tour(workdir: Path, *, full_diff: bool = False) -> bool:
    """Run the tour in ``workdir``; True when every step passed.

    Each step runs and reports for itself; verify and the generation need the
    model step 1 adds, so they are skipped (and the tour fails) without it.
    """
    from scaffold.verify import PROMPT, verify  # torch, transformers: only here

    copy = copy_embedded_tree(workdir / "tree")
    root = ["--root", str(copy.root)]
    _step(1, f"scaffold new-model {' '.join(NEW_MODEL_ARGS)}")
    code, diff = _quietly(new_model.main, [*NEW_MODEL_ARGS, *root, "--dry-run"])
    print(diff if full_diff else "\n".join(["the diff:", *diff_summary(diff)]))
    added = code == 0 and new_model.main([*NEW_MODEL_ARGS, *root]) == 0
    _step(2, "scaffold check")
    checked = check.main(root) == 0
    print("clean" if checked else "check failed")
    if not added:
        print("\n[3/4] [4/4] skipped: step 1 did not add the model")
        return False
    _step(3, f"scaffold verify {ARCH}")
    result = verify(copy, ARCH, None, workdir / "checkpoint")
    print(result.table(ARCH))
    _step(4, "a short greedy generation through the engine")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(workdir / "checkpoint")
    print(f"prompt  {tokenizer.decode(PROMPT)!r}  (token ids {PROMPT})")
    text = tokenizer.decode(result.engine_tokens)
    print(f"-> text {text!r}  (random weights: gibberish; ids {result.engine_tokens})")
    return checked and result.passed


def _demo(args: argparse.Namespace) -> int:
    require_runtime("demo")
    if args.keep:
        keep = Path(args.keep)
        if keep.exists() and any(keep.iterdir()):
            raise ScaffoldError("--keep folder is not empty", path=str(keep))
        keep.mkdir(parents=True, exist_ok=True)
        passed = tour(keep, full_diff=args.full_diff)
    else:
        with tempfile.TemporaryDirectory(prefix="scaffold-demo-") as folder:
            passed = tour(Path(folder), full_diff=args.full_diff)
    print("\ndemo passed" if passed else "\ndemo FAILED")
    return 0 if passed else 1


def build_parser() -> argparse.ArgumentParser:
    """``scaffold demo``'s options."""
    parser = command_parser(
        "demo", "The tour, on a temporary copy of the embedded tree (any folder)."
    )
    parser.add_argument("--keep", metavar="DIR", help="run in DIR and keep it")
    parser.add_argument(
        "--full-diff", action="store_true", help="print step 1's whole diff"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 when every step of the tour passed."""
    return run(build_parser(), argv, _demo)
