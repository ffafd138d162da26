"""``scaffold check [--fix]``: the pre-commit hook for ordering and consistency."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from scaffold.check import archs_added_since, check_tree, only_involving
from scaffold.commands.common import (
    add_tree_args,
    command_parser,
    locked_tree,
    note,
    open_tree,
    print_json,
    resolve_sort_key,
    run,
)
from scaffold.git import resolve_revision
from scaffold.plans import plan_fix


def build_parser() -> argparse.ArgumentParser:
    """``scaffold check``'s arguments."""
    parser = command_parser(
        "check",
        "Check that the registry, the docs table and the examples are ordered "
        "and consistent; --fix sorts them.",
    )
    add_tree_args(parser)
    parser.add_argument("--fix", action="store_true", help="sort every section")
    parser.add_argument(
        "--since",
        metavar="REF",
        help="only findings about architectures added since git revision REF",
    )
    parser.add_argument("--json", action="store_true", help="findings as JSON")
    return parser


def _check(args: argparse.Namespace) -> int:
    tree = open_tree(args.root)
    sort_key = resolve_sort_key(tree, args.key)
    # Resolved first: a bad revision is bad input, reported before any write.
    since = resolve_revision(tree.root, args.since) if args.since else None
    rewrote = False
    if args.fix:
        # --fix sorts whole sections even with --since: moving only the new
        # entries could not make a section sorted, and fix promises that.
        with locked_tree(tree.root):
            plan = plan_fix(tree, sort_key)
            plan.apply()
        for change in plan.changes:
            print(f"Fixing {plan.display(change.path)}")
        rewrote = bool(plan.changes)
    report = check_tree(tree, sort_key)
    findings = report.findings
    if since is not None:
        new_archs = archs_added_since(tree, since, report.registered)
        findings = only_involving(findings, new_archs)
    if args.json:
        print_json([finding.to_json() for finding in findings])
    else:
        for message in report.notes:
            note(message)
        for finding in findings:
            print(finding)
        if findings:
            print(f"{len(findings)} finding(s)", file=sys.stderr)
        else:
            print(f"clean: {len(report.registered)} architectures, no findings")
    return 1 if findings or rewrote else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 when clean, 1 on findings or files rewritten, 2 on bad input."""
    return run(build_parser(), argv, _check)
