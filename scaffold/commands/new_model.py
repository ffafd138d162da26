"""``scaffold new-model``: add an architecture in one all-or-nothing step."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence

from scaffold.commands.common import (
    add_plan_args,
    add_tree_args,
    command_parser,
    open_tree,
    resolve_sort_key,
    run,
    run_plan,
    warn,
)
from scaffold.errors import ScaffoldError
from scaffold.names import check_arch, check_module, default_module
from scaffold.ordering import SortKey
from scaffold.plans import NewModel, plan_new_model

# The Hub's repo ids: ORG/NAME of letters, digits, "-", "_" and ".".
HF_REPO_ID = re.compile(r"[\w.-]+/[\w.-]+", re.ASCII)


def build_parser() -> argparse.ArgumentParser:
    """``scaffold new-model``'s arguments."""
    parser = command_parser(
        "new-model",
        "Add an architecture: model file (from the template, --from an in-tree "
        "model, or --alias-of an existing class), registry entry, docs row and "
        "example entry.",
    )
    parser.add_argument("arch", metavar="ARCH", help="e.g. MistralForCausalLM")
    parser.add_argument(
        "--kind",
        default="text-generation",
        help="the registry dict _X_MODELS to add to, as x (text-generation, "
        "embedding, multimodal, ...: the tree's own dicts decide)",
    )
    parser.add_argument("--section", help="registry section header, e.g. Decoder-only")
    parser.add_argument("--module", help="model module name (default: from ARCH)")
    parser.add_argument("--class", dest="class_name", help="class name (default: ARCH)")
    origin = parser.add_mutually_exclusive_group()
    origin.add_argument("--alias-of", metavar="MODULE:CLASS", help="reuse a class")
    origin.add_argument(
        "--from", dest="clone_from", metavar="MODULE", help="clone an in-tree model"
    )
    parser.add_argument("--models", default="", help='docs "Models" column')
    parser.add_argument(
        "--hf-example",
        default="",
        metavar="ORG/NAME",
        help="a Hugging Face repo id for the docs row and the example entry",
    )
    parser.add_argument("--inputs", default="T", help='docs "Inputs" column')
    parser.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="the example entry needs trust_remote_code=True",
    )
    parser.add_argument("--force", action="store_true", help="overwrite a module")
    add_plan_args(parser)
    add_tree_args(parser)
    return parser


def _alias(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    module, _, class_name = value.partition(":")
    if not module or not class_name:
        raise ScaffoldError(
            f"--alias-of {value!r} must be MODULE:CLASS, e.g. llama:LlamaForCausalLM"
        )
    return check_module(module), check_arch(class_name, "CLASS")


def _hf_example(value: str) -> str:
    """``ORG/NAME`` as the Hub spells repo ids; URLs, spaces, bare names refused."""
    if value and not HF_REPO_ID.fullmatch(value):
        raise ScaffoldError(
            f"--hf-example {value!r} must be a Hugging Face repo id ORG/NAME, "
            "e.g. mistralai/Mistral-7B-v0.1 (no URL, no spaces)"
        )
    return value


def _request(args: argparse.Namespace, sort_key: SortKey) -> NewModel:
    arch = check_arch(args.arch)
    hf_example = _hf_example(args.hf_example)
    return NewModel(
        arch=arch,
        kind=args.kind,
        module=check_module(args.module or default_module(arch)),
        class_name=check_arch(args.class_name or arch, "--class"),
        section=args.section,
        alias_of=_alias(args.alias_of),
        clone_from=args.clone_from,
        models=args.models,
        hf_example=hf_example,
        inputs=args.inputs,
        trust_remote_code=args.trust_remote_code,
        sort_key=sort_key,
        force=args.force,
    )


def _new_model(args: argparse.Namespace) -> int:
    tree = open_tree(args.root)
    request = _request(args, resolve_sort_key(tree, args.key))
    run_plan(
        lambda: plan_new_model(tree, request),
        lock_root=tree.root,
        dry_run=args.dry_run,
        as_json=args.json,
    )
    # After the plan, so that bad input stays a one-line error.
    if not request.hf_example:
        warn("no --hf-example: the example entry is marked is_available_online=False")
    if not request.models:
        warn('no --models: the docs row\'s "Models" column stays empty')
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``scaffold new-model ARCH [options]``; exit 0, or 2 on bad input."""
    return run(build_parser(), argv, _new_model)
