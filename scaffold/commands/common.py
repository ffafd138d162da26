"""What every subcommand shares: argument parsing, error reporting, output."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any, NoReturn

from scaffold.errors import ScaffoldError
from scaffold.lock import tree_lock
from scaffold.ordering import KEYS, SortKey, get_key
from scaffold.plan import Plan
from scaffold.transaction import JOURNAL_NAME, Interrupted, has_journal, recover
from scaffold.tree import Tree, find_tree


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


def add_plan_args(parser: argparse.ArgumentParser) -> None:
    """``--dry-run`` and ``--json``, for the commands that apply a Plan."""
    parser.add_argument(
        "--dry-run", action="store_true", help="print the diff; write nothing"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the plan as JSON (it is still applied unless --dry-run)",
    )


def resolve_sort_key(tree: Tree, requested: str | None) -> SortKey:
    """``--key``, else the tree's ``[tool.scaffold] key``, else ``family``.

    The one place a key name becomes the callable every editor takes.
    """
    name = requested or tree.configured_key() or "family"
    if name not in KEYS:
        raise ScaffoldError(
            f"unknown key {name!r} in [tool.scaffold] (use one of {sorted(KEYS)})",
            path=str(tree.root / "pyproject.toml"),
        )
    return get_key(name)


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


# As the README installs it: from scaffold's own folder (there is no scaffold
# on the package index; `pip install scaffold` would fetch someone else's).
RUNTIME_INSTALL = "pip install torch==2.13.0 && pip install '.[runtime]'"


def require_runtime(command: str) -> None:
    """One line (exit 2), not a traceback, when torch or transformers is missing.

    ``verify`` and ``demo`` run models; the core install (``pip install .``)
    has neither package.
    """
    missing = [name for name in ("torch", "transformers") if not find_spec(name)]
    if missing:
        raise ScaffoldError(
            f"needs {' and '.join(missing)}, which the core install leaves out; "
            f"install the runtime extra scaffold[runtime] (in scaffold's folder: "
            f"{RUNTIME_INSTALL}, the CPU build of torch first, as the README does)",
            path=f"scaffold {command}",
        )


def warn(message: str) -> None:
    """A one-line warning on stderr (the command goes on)."""
    print(f"warning: {message}", file=sys.stderr)


def note(message: str) -> None:
    """A one-line note on stderr (a skipped part of the tree, say)."""
    print(f"note: {message}", file=sys.stderr)


def run_plan(
    build: Callable[[], Plan],
    *,
    lock_root: Path | None,
    dry_run: bool,
    as_json: bool,
) -> Plan:
    """Build a plan and show it (dry run) or apply it and report what was done.

    The plan is built once, inside the tree's lock (``lock_root``; None for a
    command that writes outside any tree), so what is applied is what the
    files held while no other run could change them.
    """
    if dry_run:
        plan = build()
    else:
        with locked_tree(lock_root) if lock_root else contextlib.nullcontext():
            plan = build()
            plan.apply(journal=lock_root is not None)
    if as_json:
        print_json(plan.to_json())
        return plan
    for message in plan.notes:
        note(message)
    if dry_run:
        sys.stdout.write(plan.diff())
        return plan
    for change in plan.changes:
        print(f"{change.done} {plan.display(change.path)}")
    if plan.checklist:
        print("\nWhat is left to do:")
        print("\n".join(f"  [ ] {item}" for item in plan.checklist))
    return plan


def print_json(data: Any) -> None:
    """Machine-readable output on stdout."""
    print(json.dumps(data, indent=2, ensure_ascii=False))


def open_tree(root: str | None) -> Tree:
    """Find the tree (``--root`` or walk up) and finish any interrupted run in it.

    Every command starts here, readers too: a tree half written by a killed
    run is rolled back before anything reads it.
    """
    tree = find_tree(root)
    if has_journal(tree.root):
        with locked_tree(tree.root):
            pass
    return tree


@contextlib.contextmanager
def locked_tree(root: Path) -> Iterator[None]:
    """Hold the tree lock, rolling back an interrupted run first (and saying so)."""
    with tree_lock(root):
        try:
            restored = recover(root)
        except Interrupted as problem:
            raise ScaffoldError(
                f"an interrupted scaffold run left {JOURNAL_NAME}, but {problem}; "
                'compare the files with the journal\'s "old", then delete it',
                path=str(root / JOURNAL_NAME),
            ) from None
        if restored is not None:
            files = ", ".join(map(str, restored)) or "no file needed it"
            note(f"rolled back an interrupted scaffold run ({files})")
        yield
