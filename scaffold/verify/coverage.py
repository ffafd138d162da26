"""``scaffold verify --all``: which text-generation archs run on vllm_stub.

Each registered architecture ends in one state: ``verifies`` (greedy tokens and
logits match transformers), ``differs`` (it runs, they do not match),
``blocked`` (its files import names vllm_stub lacks: listed), ``no reference``
(it loads, but transformers has no class of that name to compare with) or
``fails`` (anything else, with the error's one line).
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from scaffold.errors import ScaffoldError
from scaffold.registry import RegistryView
from scaffold.tree import Tree
from scaffold.verify.upstream import blocking_imports, tree_model


@dataclass(frozen=True)
class Outcome:
    """What happened to one architecture."""

    arch: str
    state: str
    detail: str = ""


def _outcome(tree: Tree, arch: str, pair: tuple[str, str] | None) -> Outcome:
    import transformers

    from scaffold.verify.parity import verify

    try:
        model = tree_model(tree, arch, pair)
        _, missing = blocking_imports(tree, model)
        if missing:
            return Outcome(arch, "blocked", ", ".join(missing))
        if not hasattr(getattr(transformers, arch, None), "config_class"):
            return Outcome(arch, "no reference", "transformers has no such class")
        with tempfile.TemporaryDirectory(prefix="scaffold-verify-") as folder:
            result = verify(tree, arch, None, Path(folder), model=model)
    except ScaffoldError as exc:
        return Outcome(arch, "fails", exc.message)
    except Exception as exc:  # a config transformers refuses, say: report, go on
        return Outcome(arch, "fails", f"{type(exc).__name__}: {exc}".splitlines()[0])
    if result.passed:
        return Outcome(arch, "verifies")
    return Outcome(arch, "differs", f"max |Δlogit| {result.max_logit_diff:.2e}")


def coverage(tree: Tree, view: RegistryView) -> list[Outcome]:
    """Every text-generation architecture's outcome, in registry order."""
    literal = view.parsed.dicts[view.kind("text-generation").registry_dict]
    outcomes = []
    for i, entry in enumerate(literal.entries, 1):
        print(f"[{i}/{len(literal.entries)}] {entry.key}", file=sys.stderr)
        outcomes.append(_outcome(tree, entry.key, entry.pair))
    return outcomes


def print_coverage(tree: Tree, view: RegistryView) -> int:
    """Print the outcomes, a summary and the most blocking imports; exit 0."""
    outcomes = coverage(tree, view)
    width = max(len(o.arch) for o in outcomes)
    for o in outcomes:
        print(f"{o.arch:<{width}}  {o.state:<12}  {o.detail}".rstrip())
    states = Counter(o.state for o in outcomes)
    print(
        f"\n{states['verifies']} of {len(outcomes)} text-generation architectures "
        "verify on vllm_stub ("
        + ", ".join(f"{n} {state}" for state, n in states.most_common())
        + ")"
    )
    blockers = Counter(
        name for o in outcomes if o.state == "blocked" for name in o.detail.split(", ")
    )
    if blockers:
        print("imports blocking the most architectures:")
        for name, n in blockers.most_common(10):
            print(f"  {n:>3}  {name}")
    return 0
