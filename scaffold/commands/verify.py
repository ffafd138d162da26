"""``scaffold verify ARCH``: does this tree's model match transformers?"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from pathlib import Path

from scaffold.commands.common import command_parser, run
from scaffold.names import check_arch
from scaffold.tree import find_tree


def _parser() -> argparse.ArgumentParser:
    parser = command_parser(
        "verify",
        "Build a tiny random checkpoint of ARCH with transformers, run it through "
        "transformers and this tree's engine, and compare logits and greedy tokens.",
    )
    parser.add_argument("arch", metavar="ARCH")
    parser.add_argument("--root", help="the tree (default: walk up from here)")
    parser.add_argument(
        "--config", type=Path, help="a config.json to use instead of a tiny one"
    )
    return parser


def _verify(args: argparse.Namespace) -> int:
    from scaffold.verify import verify  # torch and transformers: only here

    tree = find_tree(args.root)
    arch = check_arch(args.arch)
    with tempfile.TemporaryDirectory(prefix="scaffold-verify-") as folder:
        print(f"[1/2] tiny random {arch} checkpoint, transformers and engine ...")
        result = verify(tree, arch, args.config, Path(folder))
    print(f"[2/2] compared on {len(result.reference_tokens)} greedy tokens")
    print(result.table(arch))
    return 0 if result.passed else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 when greedy tokens and logits agree, 1 when not, 2 if it cannot run."""
    return run(_parser(), argv, _verify)
