"""The model and test templates render into files that lint, load and match HF."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scaffold.modelfile import render

ROOT = Path(__file__).resolve().parents[2]
VARIABLES = {
    "family": "Mistral",
    "class_name": "MistralForCausalLM",
    "arch": "MistralForCausalLM",
    "module": "mistral",
}
# The project's ruff settings, written at the root of the rendered tree so that
# ruff sees the package folder there as first-party.
RUFF_CONFIG = """\
[tool.ruff]
line-length = 88
target-version = "py310"

[tool.ruff.lint]
select = ["E", "F", "W", "I", "UP", "B"]
"""


def _render(template: str, package: str) -> str:
    return render(template, package=package, **VARIABLES)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _add_imported_modules(root: Path, source: str, package: str) -> None:
    """Create the package modules ``source`` imports, as a real tree has them.

    ruff counts an import as first-party only if its module path exists.
    """
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module.split(".")[0] == package:
            module = root.joinpath(*node.module.split("."))
            if not module.is_dir():
                _write(module.with_suffix(".py"), "")


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def stub_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of ``vllm_stub`` with the rendered Mistral model registered."""
    tree = tmp_path_factory.mktemp("tree")
    package = tree / "vllm_stub"
    shutil.copytree(
        ROOT / "vllm_stub", package, ignore=shutil.ignore_patterns("__pycache__")
    )
    registry = package / "model_executor" / "models" / "registry.py"
    anchor = '    "LlamaForCausalLM": ("llama", "LlamaForCausalLM"),\n'
    text = registry.read_text()
    assert anchor in text
    entry = '    "MistralForCausalLM": ("mistral", "MistralForCausalLM"),\n'
    registry.write_text(text.replace(anchor, anchor + entry))
    models = package / "model_executor" / "models"
    _write(models / "mistral.py", _render("model.py.jinja", "vllm_stub"))
    _write(
        tree / "tests" / "models" / "test_mistral.py",
        _render("test_model.py.jinja", "vllm_stub"),
    )
    return tree


def test_rendered_model_matches_transformers_mistral(stub_tree: Path) -> None:
    which = _run(
        [sys.executable, "-c", "import vllm_stub; print(vllm_stub.__file__)"],
        stub_tree,
        PYTHONPATH=str(stub_tree),
    )
    assert which.stdout.startswith(str(stub_tree)), which.stderr
    result = _run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"]
        + ["tests/models/test_mistral.py"],
        stub_tree,
        PYTHONPATH=str(stub_tree),
    )
    assert "1 passed" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("package", ["vllm_stub", "vllm"])
def test_rendered_files_pass_ruff(tmp_path: Path, package: str) -> None:
    models = tmp_path / package / "model_executor" / "models"
    files = [
        _write(models / "mistral.py", _render("model.py.jinja", package)),
        _write(
            tmp_path / "tests" / "models" / "test_mistral.py",
            _render("test_model.py.jinja", package),
        ),
    ]
    for file in files:
        _add_imported_modules(tmp_path, file.read_text(), package)
    _write(tmp_path / "pyproject.toml", RUFF_CONFIG)
    names = [str(f.relative_to(tmp_path)) for f in files]
    ruff = [sys.executable, "-m", "ruff"]
    check = _run([*ruff, "check", *names], tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = _run([*ruff, "format", "--check", "--diff", *names], tmp_path)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_todo_markers_are_single_comment_lines() -> None:
    source = _render("model.py.jinja", "vllm_stub")
    todos = [line for line in source.splitlines() if "TODO(scaffold):" in line]
    assert len(todos) >= 5
    assert all(line.lstrip().startswith("# TODO(scaffold): ") for line in todos)
