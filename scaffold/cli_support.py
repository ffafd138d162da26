"""What every subcommand shares: argument parsing, error reporting, output."""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from scaffold.errors import ScaffoldError
from scaffold.ordering import KEYS
from scaffold.plan import Plan
from scaffold.tree import Tree


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose usage errors are one-line ScaffoldErrors (exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise ScaffoldError(f"{message} (see {self.prog} --help)", path=self.prog)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            print(message, file=sys.stderr, end="")
        raise SystemExit(status)


def command_parser(name: str, description: str) -> ArgumentParser:
    """A parser for ``scaffold <name>`` with ``--debug``."""
    parser = ArgumentParser(prog=f"scaffold {name}", description=description)
    parser.add_argument(
        "--debug", action="store_true", help="show a traceback on errors"
    )
    return parser


def add_tree_args(parser: argparse.ArgumentParser) -> None:
    """``--root`` and ``--key``."""
    parser.add_argument("--root", help="the tree (default: walk up from here)")
    parser.add_argument(
        "--key",
        choices=sorted(KEYS),
        help="ordering key (default: [tool.scaffold] key, else family)",
    )


def sort_key_name(tree: Tree, requested: str | None) -> str:
    """``--key``, else the tree's ``[tool.scaffold] key``, else ``family``."""
    name = requested or tree.configured_key() or "family"
    if name not in KEYS:
        raise ScaffoldError(
            f"unknown key {name!r} in [tool.scaffold] (use one of {sorted(KEYS)})",
            path=str(tree.root / "pyproject.toml"),
        )
    return name


def run(
    parser: ArgumentParser,
    argv: Sequence[str] | None,
    body: Callable[[argparse.Namespace], int],
) -> int:
    """Parse ``argv`` and run ``body``; bad input becomes one line and exit 2."""
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
        return body(args)
    except SystemExit as exit_:  # --help
        return int(exit_.code or 0)
    except ScaffoldError as error:
        if debug:
            traceback.print_exc()
        print(error.at(parser.prog), file=sys.stderr)
        return 2


def note(message: str) -> None:
    """A one-line note on stderr (a skipped part of the tree, say)."""
    print(f"note: {message}", file=sys.stderr)


def emit_plan(plan: Plan, *, as_json: bool, dry_run: bool) -> None:
    """Show a plan: JSON, or the diff on a dry run; notes go to stderr."""
    if as_json:
        print_json(plan.to_json())
        return
    for message in plan.notes:
        note(message)
    if dry_run:
        sys.stdout.write(plan.diff())


def print_json(data: Any) -> None:
    """Machine-readable output on stdout."""
    print(json.dumps(data, indent=2, ensure_ascii=False))
