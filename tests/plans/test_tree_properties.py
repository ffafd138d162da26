"""Properties over generated trees: new-model + remove is byte-identical, and
``check --fix`` keeps every key and comment and is idempotent.

A tree here is the three files scaffold edits plus the alias target, each in
a random layout (``tests/registry_strategies.py``: comments, sections,
splats, exploded values, no trailing comma, empty dicts) and a random
encoding (LF, CRLF or mixed line endings, with or without a BOM).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from registry_strategies import ARCHS, registries

from scaffold.ordering import KEYS, get_key
from scaffold.plans import NewModel, plan_fix, plan_new_model, plan_remove
from scaffold.tree import find_tree

pytestmark = pytest.mark.slow

REGISTRY = "pkg/model_executor/models/registry.py"
EXAMPLES = "tests/models/registry.py"
DOCS = "docs/models/supported_models.md"
NEW_ARCHS = ["AaaForCausalLM", "OrcaForCausalLM", "Gemma2bModel", "ZetaForCausalLM"]


@st.composite
def encodings(draw: st.DrawFn, text: str) -> bytes:
    """``text`` with LF, CRLF or per-line mixed endings, maybe behind a BOM."""
    lines = text.split("\n")
    style = draw(st.sampled_from(["lf", "crlf", "mixed"]))
    if style == "mixed":
        crlf = draw(st.lists(st.booleans(), min_size=len(lines), max_size=len(lines)))
    else:
        crlf = [style == "crlf"] * len(lines)
    ended = [
        line + ("\r" if use else "")
        for line, use in zip(lines[:-1], crlf[:-1], strict=True)
    ]
    body = "\n".join([*ended, lines[-1]])
    return (("\ufeff" if draw(st.booleans()) else "") + body).encode()


@st.composite
def docs_pages(draw: st.DrawFn) -> str:
    archs = draw(st.lists(st.sampled_from(ARCHS), unique=True, max_size=6))
    rows = "".join(f"| `{arch}` | {arch[:3]} | `x/{arch}` |\n" for arch in archs)
    return (
        "# Supported Models\n\n## List of Text-only Language Models\n\n"
        "#### Text Generation\n\n| Architecture | Models | Example HF Models |\n"
        f"| --- | --- | --- |\n{rows}\nMore text.\n"
    )


@st.composite
def trees(draw: st.DrawFn) -> dict[str, bytes]:
    registry = draw(registries("_TEXT_GENERATION_MODELS", max_size=8))
    examples = draw(registries("_TEXT_GENERATION_EXAMPLE_MODELS", max_size=8))
    return {
        REGISTRY: draw(encodings(registry)),
        EXAMPLES: draw(encodings(examples)),
        DOCS: draw(encodings(draw(docs_pages()))),
        "pkg/model_executor/models/llama.py": b"class LlamaForCausalLM:\n    pass\n",
    }


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    for relative, data in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)


def read_tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


ROUTES = {
    "alias": {"alias_of": ("llama", "LlamaForCausalLM")},
    "template": {"module": "newmod"},
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees(), st.sampled_from(NEW_ARCHS), st.sampled_from(sorted(ROUTES)))
def test_new_model_then_remove_is_byte_identical(files, arch, route):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_tree(root, files)
        tree = find_tree(root)
        if arch.encode() in files[REGISTRY]:
            return
        request = NewModel(
            arch=arch, class_name=arch, models="M", hf_example="org/m", **ROUTES[route]
        )
        plan_new_model(tree, request).apply()
        assert read_tree(root) != files
        plan_remove(tree, arch).apply()
        assert read_tree(root) == files


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees(), st.sampled_from(sorted(KEYS)))
def test_fix_keeps_keys_and_comments_and_is_idempotent(files, key_name):
    sort_key = get_key(key_name)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_tree(root, files)
        tree = find_tree(root)
        plan_fix(tree, sort_key).apply()
        fixed = read_tree(root)
        for relative, before in files.items():
            # Lines move whole (a moved comma-less entry gains its comma);
            # every line keeps its own ending, BOM included.
            assert without_commas(fixed[relative]) == without_commas(before)
        assert plan_fix(tree, sort_key).changes == []


def without_commas(data: bytes) -> list[bytes]:
    return sorted(line.replace(b",", b"") for line in data.split(b"\n"))
