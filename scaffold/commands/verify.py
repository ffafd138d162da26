"""``scaffold verify ARCH``: does this tree's model match transformers?"""

from __future__ import annotations

import argparse
import difflib
import tempfile
from collections.abc import Sequence
from pathlib import Path

from scaffold.commands.common import command_parser, open_tree, require_runtime, run
from scaffold.errors import ScaffoldError, located
from scaffold.names import check_arch
from scaffold.pydict import parse_source
from scaffold.registry import RegistryView
from scaffold.textio import read_source
from scaffold.tree import Tree


def build_parser() -> argparse.ArgumentParser:
    """``scaffold verify``'s arguments."""
    parser = command_parser(
        "verify",
        "Build a tiny random checkpoint of ARCH with transformers, run it through "
        "transformers and this tree's engine, and compare logits and greedy tokens.",
    )
    parser.add_argument(
        "arch", metavar="ARCH", help="a registered architecture, e.g. LlamaForCausalLM"
    )
    parser.add_argument("--root", help="the tree (default: walk up from here)")
    parser.add_argument(
        "--config", type=Path, help="a config.json to use instead of a tiny one"
    )
    return parser


def _verify(args: argparse.Namespace) -> int:
    tree = open_tree(args.root)
    arch = check_arch(args.arch)
    require_registered(tree, arch)
    require_runtime("verify")
    from scaffold.verify import verify  # torch and transformers: only here

    with tempfile.TemporaryDirectory(prefix="scaffold-verify-") as folder:
        print(f"[1/2] tiny random {arch} checkpoint, transformers and engine ...")
        result = verify(tree, arch, args.config, Path(folder))
    print(f"[2/2] compared on {len(result.reference_tokens)} greedy tokens")
    print(result.table(arch))
    return 0 if result.passed else 1


def require_registered(tree: Tree, arch: str) -> None:
    """Refuse, before building anything, an architecture the tree lacks."""
    with located(tree.relative(tree.registry_path)):
        view = RegistryView(parse_source(read_source(tree.registry_path).text))
    if arch in view.registered:
        return
    # A high cutoff: every name shares "ForCausalLM", which alone scores ~0.7.
    close = difflib.get_close_matches(arch, list(view.registered), n=3, cutoff=0.8)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise ScaffoldError(
        f"{arch} is not registered in this tree; run `scaffold new-model {arch}` "
        f"first{hint}",
        path=tree.relative(tree.registry_path),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 when greedy tokens and logits agree, 1 when not, 2 if it cannot run."""
    return run(build_parser(), argv, _verify)
