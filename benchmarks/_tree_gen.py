"""Synthetic vLLM-shaped source trees for ``scaffold_speed.py``.

The trees are written independently of scaffold's own editors (only the
ordering key is shared, DESIGN §4) so that ``scaffold check`` exiting 0 on
them also cross-checks the generator against the tool.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from scaffold.ordering import family_key

LINE_LENGTH = 88
PACKAGE = "vllm"
SYLLABLES = (
    "Al Bre Cor Dax Eon Fal Gor Hel Ix Jor Kel Lum Mor Nex Or Pax Qua Ryn Sol "
    "Tor Ul Vex Wyr Xan Yor Bel Cyr Dun Fen Gal Hax Ist Kor Lir Mav Nod"
).split()
# Long tails make some one-line entries exceed 88 characters, so the tree holds
# both the one-line and the exploded entry forms, as upstream does.
TAILS = ("", "", "", "", "Omni", "VisionLanguage", "MultiModalMoe")

# kind -> (registry dict, examples dict, share of entries, sections, suffixes)
KINDS: dict[str, tuple[str, str, float, tuple[str, ...], tuple[str, ...]]] = {
    "text-generation": (
        "_TEXT_GENERATION_MODELS",
        "_TEXT_GENERATION_EXAMPLE_MODELS",
        0.45,
        ("Decoder-only", "Encoder-decoder"),
        ("ForCausalLM", "ForCausalLM", "ForCausalLM", "LMHeadModel", "Model"),
    ),
    "embedding": (
        "_EMBEDDING_MODELS",
        "_EMBEDDING_EXAMPLE_MODELS",
        0.15,
        ("Text-only", "Multimodal"),
        ("Model", "EmbeddingModel", "ForRewardModel"),
    ),
    "cross-encoder": (
        "_CROSS_ENCODER_MODELS",
        "_CROSS_ENCODER_EXAMPLE_MODELS",
        0.05,
        ("Text-only",),
        ("ForSequenceClassification",),
    ),
    "multimodal": (
        "_MULTIMODAL_MODELS",
        "_MULTIMODAL_EXAMPLE_MODELS",
        0.30,
        ("Decoder-only", "Encoder-decoder"),
        ("ForConditionalGeneration", "ForConditionalGeneration", "ForCausalLM"),
    ),
    "speculative": (
        "_SPECULATIVE_DECODING_MODELS",
        "_SPECULATIVE_DECODING_EXAMPLE_MODELS",
        0.05,
        ("",),  # no header: the whole dict is one section
        ("MTPModel", "EagleForCausalLM"),
    ),
}


@dataclass(frozen=True)
class Arch:
    """One registry entry and where it lives."""

    name: str
    module: str
    kind: str
    section: str
    comment_above: bool
    trailing: str


def _snake(stem: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", stem).lower()


def make_archs(total: int, seed: int = 0) -> list[Arch]:
    """``total`` unique architectures spread over the five kinds."""
    rng = random.Random(seed)
    names: set[str] = set()
    archs: list[Arch] = []
    for kind, (_, _, share, sections, suffixes) in KINDS.items():
        count = max(2, round(total * share))
        made = 0
        while made < count:
            # One family (stem) gets a few versioned archs sharing a module,
            # the way Qwen2/Qwen2_5/Qwen3 share files upstream.
            base = "".join(rng.sample(SYLLABLES, rng.choice((2, 3)))) + rng.choice(
                TAILS
            )
            module = _snake(base)
            for version in ("", "2", "2_5", "3")[: rng.randint(1, 4)]:
                name = f"{base}{version}{rng.choice(suffixes)}"
                if name in names or made >= count:
                    continue
                names.add(name)
                made += 1
                archs.append(
                    Arch(
                        name=name,
                        module=module,
                        kind=kind,
                        # Most entries sit in the first section, as upstream.
                        section=sections[0]
                        if rng.random() < 0.85
                        else rng.choice(sections),
                        comment_above=rng.random() < 0.08,
                        trailing=f"  # {base}{version}" if rng.random() < 0.1 else "",
                    )
                )
    return archs


def _exploded(head: str, items: list[str], tail: str) -> list[str]:
    return [f"{head}(", *(f"        {item}," for item in items), f"    ){tail}"]


def _entry(arch: Arch, opener: str, items: list[str]) -> list[str]:
    """The entry lines: one line when it fits in 88 characters, else exploded."""
    lines = ["    # See the model card for the checkpoint layout."]
    lines = lines if arch.comment_above else []
    one = f'    "{arch.name}": {opener}({", ".join(items)}),'
    if len(one) <= LINE_LENGTH:
        return [*lines, one + arch.trailing]
    return [*lines, *_exploded(f'    "{arch.name}": {opener}', items, ",")]


def _dict_source(archs: list[Arch], names: int, value: object) -> list[str]:
    """One ``NAME = {...}`` literal per kind, sections sorted by the family key."""
    out: list[str] = []
    for kind, spec in KINDS.items():
        out += ["", f"{spec[names]} = {{"]
        for section in spec[3]:
            members = [a for a in archs if a.kind == kind and a.section == section]
            if section:
                out.append(f"    # [{section}]")
            for arch in sorted(members, key=lambda a: family_key(a.name)):
                out += value(arch)  # type: ignore[operator]
        out.append("}")
    return out


def registry_text(archs: list[Arch]) -> str:
    """``<pkg>/model_executor/models/registry.py``."""
    head = ["# SPDX-License-Identifier: Apache-2.0", '"""Synthetic model registry."""']
    body = _dict_source(
        archs, 0, lambda a: _entry(a, "", [f'"{a.module}"', f'"{a.name}"'])
    )
    merged = ", ".join(f"**{spec[0]}" for spec in KINDS.values())
    return "\n".join([*head, *body, "", f"_VLLM_MODELS = {{{merged}}}", ""])


def examples_text(archs: list[Arch]) -> str:
    """``tests/models/registry.py`` with one ``_HfExamplesInfo`` per arch."""
    head = [
        '"""Synthetic HF examples."""',
        "",
        "from dataclasses import dataclass",
        "",
        "",
        "@dataclass(frozen=True)",
        "class _HfExamplesInfo:",
        "    default: str",
        "    trust_remote_code: bool = False",
        "",
    ]

    def value(arch: Arch) -> list[str]:
        items = [f'"{arch.module.replace("_", "-")}-org/{arch.name}"']
        if len(arch.name) % 3 == 0:
            items.append("trust_remote_code=True")
        return _entry(arch, "_HfExamplesInfo", items)

    return "\n".join([*head, *_dict_source(archs, 1, value), ""])


_COLUMNS = "Example HF Models | [LoRA](../features/lora.md) | "
_COLUMNS += "[PP](../serving/parallelism_scaling.md) |"
# kind -> markdown headings above its table; the first two follow upstream.
_DOCS = {
    "text-generation": [
        "## List of Text-only Language Models",
        "### Generative Models",
        "#### Text Generation",
    ],
    "embedding": ["### Pooling Models", "#### Embedding"],
    "cross-encoder": ["#### Cross-encoder / Reranker"],
    "multimodal": [
        "## List of Multimodal Language Models",
        "### Generative Models",
        "#### Text Generation",
    ],
    "speculative": ["## Speculative Decoding"],
}


def docs_text(archs: list[Arch]) -> str:
    """``docs/models/supported_models.md``: one table per kind, rows sorted."""
    out = ["# Supported Models", "", "Synthetic page for benchmarks.", ""]
    for kind, headings in _DOCS.items():
        inputs = kind == "multimodal"
        for heading in headings:
            out += [heading, ""]
        cols = "| Architecture | Models | " + ("Inputs | " if inputs else "") + _COLUMNS
        out += [cols, "| --- " * cols.count(" | ") + "| --- |"]
        members = sorted(
            (a for a in archs if a.kind == kind), key=lambda a: family_key(a.name)
        )
        for arch in members:
            extra = "T + I | " if inputs else ""
            out.append(
                f"| `{arch.name}` | {arch.name[:8]} | {extra}"
                f"`org/{arch.name}`, etc. | ✅︎ | ✅︎ |"
            )
        out.append("")
    return "\n".join(out)


def model_text(classes: list[str]) -> str:
    """A model module defining ``classes`` (parsed by scaffold, never imported)."""
    parts = ['"""Synthetic model module."""', "", "from torch import nn"]
    for name in classes:
        parts += ["", "", f"class {name}(nn.Module):", "    pass"]
    return "\n".join(parts) + "\n"


def write_tree(root: Path, total: int, seed: int = 0) -> list[Arch]:
    """Write a tree with ``total`` registry entries under ``root``; return them."""
    archs = make_archs(total, seed)
    models = root / PACKAGE / "model_executor" / "models"
    models.mkdir(parents=True)
    for init in (root / PACKAGE, root / PACKAGE / "model_executor", models):
        (init / "__init__.py").write_text("")
    (models / "registry.py").write_text(registry_text(archs), encoding="utf-8")
    by_module: dict[str, list[str]] = defaultdict(list)
    for arch in archs:
        by_module[arch.module].append(arch.name)
    for module, classes in by_module.items():
        (models / f"{module}.py").write_text(model_text(classes), encoding="utf-8")
    (root / "docs" / "models").mkdir(parents=True)
    docs = root / "docs" / "models" / "supported_models.md"
    docs.write_text(docs_text(archs), encoding="utf-8")
    (root / "tests" / "models").mkdir(parents=True)
    examples = root / "tests" / "models" / "registry.py"
    examples.write_text(examples_text(archs), encoding="utf-8")
    return archs
