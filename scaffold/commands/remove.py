"""``scaffold remove``: undo ``new-model`` for one architecture, all-or-nothing."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from scaffold.commands.common import (
    add_plan_args,
    command_parser,
    open_tree,
    run,
    run_plan,
)
from scaffold.names import check_arch
from scaffold.plans import plan_remove


def build_parser() -> argparse.ArgumentParser:
    """``scaffold remove``'s arguments."""
    parser = command_parser(
        "remove",
        "Remove an architecture: its registry and example entries, its docs row "
        "(or its part of a shared row), and its model file and generated test "
        "when no other entry uses the module.",
    )
    parser.add_argument("arch", metavar="ARCH", help="e.g. MistralForCausalLM")
    parser.add_argument("--root", help="the tree (default: walk up from here)")
    parser.add_argument(
        "--kind",
        help="remove only this kind's registration (needed when several kinds "
        "register ARCH)",
    )
    add_plan_args(parser)
    return parser


def _remove(args: argparse.Namespace) -> int:
    arch = check_arch(args.arch)
    tree = open_tree(args.root)
    run_plan(
        lambda: plan_remove(tree, arch, args.kind),
        lock_root=tree.root,
        dry_run=args.dry_run,
        as_json=args.json,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``scaffold remove ARCH [--kind K] [--root] [--dry-run] [--json]``; 0, or 2."""
    return run(build_parser(), argv, _remove)
