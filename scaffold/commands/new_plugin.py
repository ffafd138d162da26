"""``scaffold new-plugin``: generate an out-of-tree model plugin package."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from scaffold.commands.common import add_plan_args, command_parser, run, run_plan
from scaffold.names import check_arch
from scaffold.plans import NewPlugin, check_package_name, plan_new_plugin
from scaffold.plans.new_plugin import ENGINES


def build_parser() -> argparse.ArgumentParser:
    """``scaffold new-plugin``'s arguments."""
    parser = command_parser(
        "new-plugin",
        "Generate a plugin package that registers ARCH from the engine's "
        "general-plugin entry point: pyproject.toml, NAME/__init__.py with "
        "register(), the model module (written for the engine) and its test.",
    )
    parser.add_argument("name", metavar="NAME", help="package name, e.g. my_plugin")
    parser.add_argument("--arch", required=True, help="e.g. MyLlamaForCausalLM")
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="vllm",
        help="the engine the plugin is for (default: vllm)",
    )
    parser.add_argument("--out", metavar="DIR", help="where to write (default: ./NAME)")
    parser.add_argument("--force", action="store_true", help="write into a used DIR")
    add_plan_args(parser)
    return parser


def _new_plugin(args: argparse.Namespace) -> int:
    name = check_package_name(args.name)
    request = NewPlugin(
        name=name,
        arch=check_arch(args.arch, "--arch"),
        out=Path(args.out or name).resolve(),
        engine=args.engine,
        force=args.force,
    )
    # No tree lock: the plugin is written to its own new folder.
    run_plan(
        lambda: plan_new_plugin(request),
        lock_root=None,
        dry_run=args.dry_run,
        as_json=args.json,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``scaffold new-plugin NAME --arch ARCH [options]``; exit 0, or 2."""
    return run(build_parser(), argv, _new_plugin)
