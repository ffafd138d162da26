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

ROOT = Path(__file__).resolve().parents[2]
LLAMA = ROOT / "vllm_stub" / "model_executor" / "models" / "llama.py"


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


def test_rendered_llama_template_is_the_engines_llama() -> None:
    rendered = render(
        "model.py.jinja",
        package="vllm_stub",
        family="Llama",
        class_name="LlamaForCausalLM",
        arch="LlamaForCausalLM",
        module="llama",
    )
    expected, actual = _model_code(rendered), _model_code(LLAMA.read_text())
    diff = difflib.unified_diff(
        expected, actual, "model.py.jinja (Llama)", "llama.py", lineterm=""
    )
    assert actual == expected, "\n".join(diff)


def test_model_code_drops_only_the_docstring_and_markers() -> None:
    source = '"""Doc.\n\nMore."""\n\n# TODO(scaffold): adapt.\n\nimport os\n'
    assert _model_code(source) == ["import os"]
    assert _model_code("x = 1  # TODO(scaffold): y\nz = 2\n") == ["z = 2"]
