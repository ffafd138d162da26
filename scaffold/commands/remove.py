"""``scaffold remove``: undo ``new-model`` for one architecture, all-or-nothing."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from scaffold.cli_support import command_parser, emit_plan, run
from scaffold.lock import tree_lock
from scaffold.names import check_arch
from scaffold.remove import plan_remove
from scaffold.tree import find_tree


def _parser() -> argparse.ArgumentParser:
    parser = command_parser(
        "remove",
        "Remove an architecture: its registry and example entries, its docs row "
        "(or its part of a shared row), and its model file and generated test "
        "when no other entry uses the module.",
    )
    parser.add_argument("arch", metavar="ARCH", help="e.g. MistralForCausalLM")
    parser.add_argument("--root", help="the tree (default: walk up from here)")
    parser.add_argument("--dry-run", action="store_true", help="print the diff only")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    return parser


def _remove(args: argparse.Namespace) -> int:
    arch = check_arch(args.arch)
    tree = find_tree(args.root)
    if args.dry_run:
        emit_plan(plan_remove(tree, arch), as_json=args.json, dry_run=True)
        return 0
    with tree_lock(tree.root):
        plan = plan_remove(tree, arch)
        plan.apply()
    emit_plan(plan, as_json=args.json, dry_run=False)
    if not args.json:
        for change in plan.changes:
            print(f"{change.done} {plan.display(change.path)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``scaffold remove ARCH [--root] [--dry-run] [--json]``; exit 0, or 2."""
    return run(_parser(), argv, _remove)
