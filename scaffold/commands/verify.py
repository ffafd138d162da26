"""``scaffold verify ARCH``: does this tree's model match transformers?

In a vLLM checkout the tree's own model file runs on vllm_stub (see
``scaffold.verify.upstream``); ``--all`` reports which text-generation
architectures do.
"""

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
from scaffold.pydict.model import Entry
from scaffold.registry import RegistryView
from scaffold.textio import read_source
from scaffold.tree import UPSTREAM_PACKAGE, Tree
from scaffold.verify.modes import verify_mode
from scaffold.verify.upstream import require_runnable, tree_model


def build_parser() -> argparse.ArgumentParser:
    """``scaffold verify``'s arguments."""
    parser = command_parser(
        "verify",
        "Build a tiny random checkpoint of ARCH with transformers, run it through "
        "transformers and this tree's engine, and compare: logits and greedy "
        "tokens (a multimodal model's prompt has a random image), or pooled "
        "vectors for a pooling model (embedding, classification).",
    )
    parser.add_argument(
        "arch",
        metavar="ARCH",
        nargs="?",
        help="a registered architecture, e.g. LlamaForCausalLM",
    )
    parser.add_argument("--root", help="the tree (default: walk up from here)")
    parser.add_argument(
        "--config", type=Path, help="a config.json to use instead of a tiny one"
    )
    parser.add_argument(
        "--hf-class",
        metavar="CLASS",
        help="the transformers class to compare with, for an ARCH transformers "
        "does not know (default: ARCH itself), e.g. LlamaForCausalLM",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="verify every text-generation architecture of a vLLM checkout and "
        "list which run on vllm_stub and which imports block the rest",
    )
    return parser


def _verify(args: argparse.Namespace) -> int:
    tree = open_tree(args.root)
    if args.all == (args.arch is not None):
        raise ScaffoldError("give either ARCH or --all")
    view = read_registry(tree)
    if args.all:
        require_runtime("verify")
        from scaffold.verify.coverage import print_coverage

        return print_coverage(tree, view)
    arch = check_arch(args.arch)
    entry = require_registered(tree, view, arch)
    require_runtime("verify")
    model = None
    if tree.package == UPSTREAM_PACKAGE:
        model = tree_model(tree, arch, entry.pair)
        require_runnable(tree, model)
    mode = verify_mode(view, arch, args.hf_class or arch)
    # torch and transformers: only here
    from scaffold.verify.parity import reference_class, verify

    reference_class(arch, args.hf_class, args.config, mode)
    with tempfile.TemporaryDirectory(prefix="scaffold-verify-") as folder:
        print(f"[1/2] tiny random {arch} checkpoint, transformers and engine ...")
        result = verify(
            tree, arch, args.config, Path(folder), args.hf_class, model, mode
        )
    print(f"[2/2] {result.summary}")
    print(result.table(arch))
    return 0 if result.passed else 1


def read_registry(tree: Tree) -> RegistryView:
    """The tree's registry; a file that does not parse is bad input."""
    with located(tree.relative(tree.registry_path)):
        return RegistryView(parse_source(read_source(tree.registry_path).text))


def require_registered(tree: Tree, view: RegistryView, arch: str) -> Entry:
    """Refuse, before building anything, an architecture the tree lacks."""
    if arch in view.registered:
        return view.registered[arch]
    # A high cutoff: every name shares "ForCausalLM", which alone scores ~0.7.
    close = difflib.get_close_matches(arch, list(view.registered), n=3, cutoff=0.8)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise ScaffoldError(
        f"{arch} is not registered in this tree; run `scaffold new-model {arch}` "
        f"first{hint}",
        path=tree.relative(tree.registry_path),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 when the outputs agree (tokens and logits, or pooled vectors),
    1 when not, 2 if it cannot run."""
    return run(build_parser(), argv, _verify)
