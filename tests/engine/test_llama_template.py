"""One copy of the Llama model: the template rendered for Llama is ``llama.py``.

Two differences are allowed, both about the file rather than the model: the
module docstring (a generated file says where it came from) and the
``TODO(scaffold)`` marker lines (hints for whoever adapts a generated file).
"""

from __future__ import annotations

import ast
import difflib
from pathlib import Path

from scaffold.modelfile import render
from scaffold.modelfile.conventions import tree_conventions
from scaffold.tree import Tree

ROOT = Path(__file__).resolve().parents[2]
LLAMA = ROOT / "vllm_stub" / "model_executor" / "models" / "llama.py"
# The embedded tree's own conventions: no SPDX header, PretrainedConfig.
STUB_CONVENTIONS = tree_conventions(Tree(ROOT, "vllm_stub")).variables()


def _model_code(source: str) -> list[str]:
    """``source``'s lines without its module docstring and TODO markers."""
    body = ast.parse(source).body
    lines = source.splitlines()
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
    ):
        lines = lines[body[0].end_lineno :]
    kept = [line for line in lines if "TODO(scaffold)" not in line]
    while kept and not kept[0].strip():
        kept.pop(0)
    return kept


def _render_llama(kind: str = "text-generation", pooling: bool = False) -> str:
    return render(
        "model.py.jinja",
        package="vllm_stub",
        family="Llama",
        class_name="LlamaForCausalLM",
        arch="LlamaForCausalLM",
        module="llama",
        kind=kind,
        pooling=pooling,
        **STUB_CONVENTIONS,
    )


def test_rendered_llama_template_is_the_engines_llama() -> None:
    rendered = _render_llama()
    expected, actual = _model_code(rendered), _model_code(LLAMA.read_text())
    diff = difflib.unified_diff(
        expected, actual, "model.py.jinja (Llama)", "llama.py", lineterm=""
    )
    assert actual == expected, "\n".join(diff)


def test_model_code_drops_only_the_docstring_and_markers() -> None:
    source = '"""Doc.\n\nMore."""\n\n# TODO(scaffold): adapt.\n\nimport os\n'
    assert _model_code(source) == ["import os"]
    assert _model_code("x = 1  # TODO(scaffold): y\nz = 2\n") == ["z = 2"]


def test_the_embedded_trees_conventions_are_read_from_it() -> None:
    assert STUB_CONVENTIONS == {
        "spdx_header": "",
        "config_class": "PretrainedConfig",
    }


def test_kinds_the_stub_lacks_render_the_causal_lm_for_it() -> None:
    """vllm_stub has pooling adapters and multimodal processor registration,
    but no late-interaction interface and no speculative decoding: those two
    kinds alone fall back."""
    causal = _render_llama()
    assert _render_llama("late-interaction", True) == causal
    assert _render_llama("speculative-decoding") == causal
    for kind in ("embedding", "reward", "multimodal"):
        assert _render_llama(kind, kind != "multimodal") != causal, kind
