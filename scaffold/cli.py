"""``scaffold`` command line: one subcommand per module in ``scaffold.commands``.

Subcommands are imported only when run, so ``scaffold --help`` and the
pre-commit hook never import more than they use (never torch).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from scaffold import __version__

# name -> one-line help; the module scaffold.commands.<name with _> has main(argv).
COMMANDS = {
    "new-model": "add an architecture: model file, registry, docs row, example",
    "check": "check (and --fix) ordering and consistency of registry, docs, examples",
    "remove": "undo new-model: remove an architecture from the tree",
    "verify": "compare a model of this tree with transformers",
    "demo": "the 60-second tour on a temporary copy of the embedded tree",
    "new-plugin": "generate an out-of-tree plugin package",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scaffold",
        description="Contributor toolkit for vLLM-shaped source trees.",
    )
    parser.add_argument(
        "--version", action="version", version=f"scaffold {__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        # add_help=False: the subcommand's own parser answers --help.
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to ``scaffold.commands.<command>.main(rest_of_argv)``."""
    args = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    if not args or args[0] not in COMMANDS:
        try:  # prints help, the version, or a usage error
            parser.parse_args(args or ["--help"])
        except SystemExit as exit_:
            return int(exit_.code or 0) if args else 2
        return 2
    command, rest = args[0], args[1:]
    module = importlib.import_module(f"scaffold.commands.{command.replace('-', '_')}")
    try:
        return module.main(rest)
    except BrokenPipeError:
        # The reader went away (`scaffold check --json | head -1`): stop quietly
        # as Unix tools do. Point stdout at /dev/null so the interpreter's final
        # flush cannot raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
