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
from scaffold.modelfile.conventions import (
    conventions_of,
    imported_config_names,
    leading_spdx,
)

ROOT = Path(__file__).resolve().parents[2]
VARIABLES = {
    "family": "Mistral",
    "class_name": "MistralForCausalLM",
    "arch": "MistralForCausalLM",
    "module": "mistral",
    "kind": "text-generation",
    "pooling": False,
    "spdx_header": "",
    "config_class": "PretrainedConfig",
}
# Each kind of vLLM 0.33's registry: (ARCH, family, pooling).
KINDS = {
    "text-generation": ("OrcaForCausalLM", "Orca", False),
    "multimodal": ("OrcaForConditionalGeneration", "Orca", False),
    "embedding": ("ZetaModel", "Zeta", True),
    "late-interaction": ("ZetaColModel", "ZetaCol", True),
    "reward": ("OrcaForRewardModel", "Orca", True),
    "token-classification": ("OrcaForTokenClassification", "Orca", True),
    "sequence-classification": ("OrcaForSequenceClassification", "Orca", True),
    "speculative-decoding": ("OrcaMTPModel", "OrcaMTP", False),
}
UPSTREAM_SPDX = (
    "# SPDX-License-Identifier: Apache-2.0\n"
    "# SPDX-FileCopyrightText: Copyright contributors to the vLLM project"
)
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


def _render_kind(kind: str, package: str = "vllm") -> str:
    arch, family, pooling = KINDS[kind]
    return render(
        "model.py.jinja",
        package=package,
        family=family,
        class_name=arch,
        arch=arch,
        module="orca",
        kind=kind,
        pooling=pooling,
        spdx_header=UPSTREAM_SPDX if package == "vllm" else "",
        config_class="PreTrainedConfig" if package == "vllm" else "PretrainedConfig",
    )


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


@pytest.mark.slow
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
    if package == "vllm":  # the other shapes (vllm_stub renders only this one)
        files += [
            _write(models / f"orca_{i}.py", _render_kind(kind))
            for i, kind in enumerate(KINDS)
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


def _classes(source: str) -> list[ast.ClassDef]:
    return [n for n in ast.parse(source).body if isinstance(n, ast.ClassDef)]


def _base_names(node: ast.ClassDef) -> set[str]:
    """Every name the bases mention (``as_embedding_model(XForCausalLM)`` too)."""
    return {n.id for b in node.bases for n in ast.walk(b) if isinstance(n, ast.Name)}


@pytest.mark.parametrize("package", ["vllm", "vllm_stub"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_one_class_per_name_and_the_outer_class_is_the_arch(
    kind: str, package: str
) -> None:
    arch = KINDS[kind][0]
    source = _render_kind(kind, package)
    classes = _classes(source)
    names = [node.name for node in classes]
    assert len(names) == len(set(names)), names
    outer = classes[-1]
    assert outer.name == arch
    # The outer class never builds itself (ZetaModel once did: its backbone
    # had the same name), and what it wraps is defined above it.
    called = {
        node.func.id
        for node in ast.walk(outer)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert arch not in called
    assert arch not in _base_names(outer)
    assert (called | _base_names(outer)) & set(names[:-1])


def test_an_arch_ending_in_model_gets_a_differently_named_backbone() -> None:
    names = [node.name for node in _classes(_render_kind("embedding"))]
    assert names[-3:] == ["ZetaDecoderModel", "ZetaForCausalLM", "ZetaModel"]
    names = [node.name for node in _classes(_render_kind("speculative-decoding"))]
    assert names[-2:] == ["OrcaMTPDecoderModel", "OrcaMTPModel"]
    assert _classes(_render_kind("text-generation"))[-2].name == "OrcaModel"


@pytest.mark.parametrize("package", ["vllm", "vllm_stub"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_annotations_are_not_postponed(kind: str, package: str) -> None:
    """vLLM's @support_torch_compile reads forward()'s annotations as objects."""
    source = _render_kind(kind, package)
    assert "from __future__ import annotations" not in source
    assert "@support_torch_compile" in source


def test_the_trees_conventions_head_the_file() -> None:
    source = _render_kind("text-generation")
    assert source.startswith(UPSTREAM_SPDX + '\n"""Inference-only Orca,')
    assert "from transformers import PreTrainedConfig\n" in source
    assert "PretrainedConfig" not in source
    stub = _render_kind("text-generation", "vllm_stub")
    assert stub.startswith('"""Inference-only Orca,')
    assert "from transformers import PretrainedConfig\n" in stub


@pytest.mark.parametrize(
    ("kind", "declares"),
    [
        (
            "text-generation",
            "class OrcaForCausalLM(nn.Module, SupportsLoRA, SupportsPP)",
        ),
        ("multimodal", "    SupportsMultiModal,\n"),
        ("multimodal", "@MULTIMODAL_REGISTRY.register_processor("),
        ("multimodal", "    def embed_multimodal(self, **kwargs: object)"),
        ("multimodal", "    def get_placeholder_str(cls, modality: str, i: int)"),
        ("embedding", "    as_embedding_model(ZetaForCausalLM),\n"),
        ("sequence-classification", "    as_seq_cls_model(OrcaForCausalLM),\n"),
        ("late-interaction", "    SupportsLateInteraction,\n"),
        ("reward", "    is_pooling_model = True\n"),
        ("token-classification", "self.pooler = pooler_for_token_classify("),
        ("speculative-decoding", "class OrcaMTPModel(nn.Module, SupportsEagle):"),
        (
            "speculative-decoding",
            "self.fc(torch.cat((input_embeds, hidden_states), dim=-1))",
        ),
        ("speculative-decoding", "config = speculative_config.draft_model_config"),
    ],
)
def test_each_kind_declares_its_capability_as_vllm_does(
    kind: str, declares: str
) -> None:
    assert declares in _render_kind(kind)


SPDX_2 = "# SPDX-License-Identifier: Apache-2.0\n# SPDX-FileCopyrightText: x"


@pytest.mark.parametrize(
    ("text", "header"),
    [
        (SPDX_2 + '\n"""Doc."""\n', SPDX_2),
        ("#!/usr/bin/env python\n" + SPDX_2 + "\n\nimport os\n", SPDX_2),
        ("# SPDX-License-Identifier: Apache-2.0\n# Adapted from x\n", SPDX_2[:37]),
        ('"""Doc."""\n# SPDX-License-Identifier: Apache-2.0\n', ""),
        ("", ""),
    ],
)
def test_leading_spdx(text: str, header: str) -> None:
    assert leading_spdx(text) == header


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("from transformers import PreTrainedConfig\n", {"PreTrainedConfig"}),
        (
            "from transformers import LlamaConfig, PretrainedConfig\n",
            {"PretrainedConfig"},
        ),
        (
            "from transformers import (\n    BatchFeature,\n    PreTrainedConfig,\n)\n",
            {"PreTrainedConfig"},
        ),
        (
            "from transformers.configuration_utils import PretrainedConfig\n",
            {"PretrainedConfig"},
        ),
        ("from transformers import LlamaConfig  # not PreTrainedConfig\n", set()),
        ("from vllm.config import PreTrainedConfig\n", set()),
        ("x: PreTrainedConfig\n", set()),
    ],
)
def test_imported_config_names(text: str, names: set[str]) -> None:
    assert imported_config_names(text) == names


def test_conventions_follow_the_most_files_else_the_engines_default() -> None:
    new, old = (
        "from transformers import PreTrainedConfig\n",
        "from transformers import PretrainedConfig\n",
    )
    upstream = conventions_of([SPDX_2 + "\n" + new, SPDX_2 + "\n" + new, old], "vllm")
    assert (upstream.spdx_header, upstream.config_class) == (SPDX_2, "PreTrainedConfig")
    tie = conventions_of([new, old], "vllm_stub")
    assert (tie.spdx_header, tie.config_class) == ("", "PretrainedConfig")
    assert conventions_of([], "vllm").config_class == "PreTrainedConfig"
    # The first text (the registry) breaks a tie between headers.
    assert conventions_of([SPDX_2, ""], "vllm").spdx_header == SPDX_2
