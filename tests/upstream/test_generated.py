"""What scaffold generates runs in real vLLM 0.33.0 and passes the tree's hooks.

new-model for several kinds on a git copy of the release tree: each model file
passes the tree's own ruff config and its ``tools/pre_commit`` checks, real
vLLM imports it and ``_ModelInfo.from_model_cls`` (vLLM's own inspection)
reports the kind's capability, and ``remove`` restores the tree byte for byte.
new-plugin: the vLLM plugin, pip-installed next to vLLM, loads and registers;
the stub's plugin installed beside it changes nothing for either engine.
Each vLLM import costs ~20 s, so one subprocess checks all kinds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scaffold.commands.new_model import main as new_model
from scaffold.commands.new_plugin import main as new_plugin
from scaffold.commands.remove import main as remove

ROOT = Path(__file__).resolve().parents[2]
MODELS = "vllm/model_executor/models"
# The hooks of upstream's .pre-commit-config.yaml that apply to a model file;
# each takes file names (relative to the tree root, as pre-commit passes them).
PRE_COMMIT = ("check_spdx_header.py", "check_forbidden_imports.py")
# ARCH, new-model options, module, and what vLLM's inspection must report.
CASES = {
    "text-generation": (
        "OrcaForCausalLM",
        ["--models", "Orca", "--hf-example", "org/orca"],
        "orca",
        {"is_text_generation_model": True, "supports_pp": True, "supports_lora": True},
    ),
    "multimodal": (
        "OrcaVLForConditionalGeneration",
        ["--kind", "multimodal", "--models", "Orca-VL", "--inputs", "T + I"],
        "orca_vl",
        {"supports_multimodal": True, "is_text_generation_model": True},
    ),
    # An ARCH ending in Model: its backbone must get another name.
    "embedding": (
        "ZetaModel",
        ["--kind", "embedding", "--models", "Zeta", "--hf-example", "org/zeta"],
        "zeta",
        {"is_pooling_model": True, "supports_multimodal": False},
    ),
    "reward": (
        "OrcaForRewardModel",
        ["--kind", "reward", "--module", "orca_rm", "--models", "Orca-RM"],
        "orca_rm",
        {"is_pooling_model": True, "is_text_generation_model": False},
    ),
    # An EAGLE draft: vLLM's own check that it may run as one (supports_eagle).
    "speculative": (
        "OrcaEagleLlamaForCausalLM",
        ["--kind", "speculative", "--models", "Orca-EAGLE", "--hf-example", "o/e"],
        "orca_eagle_llama",
        {"supports_eagle": True, "is_text_generation_model": True},
    ),
}
EAGLE_ENTRY = '"OrcaEagleLlamaForCausalLM": ("orca_eagle_llama", "OrcaEagleLlamaFor'
INSPECT = """
import importlib, json
from vllm.model_executor.models.interfaces import supports_eagle
from vllm.model_executor.models.registry import _ModelInfo
report = {{}}
for module, class_name in {classes!r}:
    mod = importlib.import_module(f"vllm.model_executor.models.{{module}}")
    assert mod.__file__.startswith({tree!r}), mod.__file__
    cls = getattr(mod, class_name)
    info = _ModelInfo.from_model_cls(cls)
    # What the proposer checks of a draft, beside what _ModelInfo reports.
    values = {{"supports_eagle": supports_eagle(cls)}}
    report[class_name] = {{
        k: values[k] if k in values else getattr(info, k) for k in {fields!r}
    }}
print("REPORT", json.dumps(report))
"""


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)


def _untouched(tree: Path) -> bool:
    """Whether ``tree`` is byte for byte its commit (no change, no new file)."""
    done = _run(["git", "status", "--porcelain", "--untracked-files=all"], tree)
    assert done.returncode == 0, done.stderr
    return done.stdout == ""


def _between(text: str, start: str, end: str, needle: str) -> bool:
    """Whether ``needle`` occurs after ``start`` and before the ``end`` after it."""
    begin = text.index(start)
    return needle in text[begin : text.index(end, begin)]


def _report(done: subprocess.CompletedProcess[str]) -> dict:
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("REPORT"))
    return json.loads(line.removeprefix("REPORT "))


@pytest.mark.slow
def test_new_model_files_pass_the_trees_hooks_and_import_in_vllm(
    upstream_tree, vllm_python, capsys
):
    tree = upstream_tree
    files = []
    for arch, options, module, _ in CASES.values():
        assert new_model([arch, *options, "--root", str(tree)]) == 0
        files.append(f"{MODELS}/{module}.py")
    capsys.readouterr()
    # The draft is registered as a speculative model; its example goes to the
    # examples' [Eagle] section (picked by name: the registry has no sections).
    registry = (tree / MODELS / "registry.py").read_text()
    assert _between(registry, "_SPECULATIVE_DECODING_MODELS = {", "\n}\n", EAGLE_ENTRY)
    examples = (tree / "tests/models/registry.py").read_text()
    assert _between(examples, "# [Eagle]\n", "# [PEagle]\n", '"OrcaEagleLlama')
    # The tree's own tools, run from its root so its pyproject.toml applies.
    for tool in (["check"], ["format", "--check", "--diff"]):
        done = _run([sys.executable, "-m", "ruff", *tool, *files], tree)
        assert done.returncode == 0, done.stdout + done.stderr
    for hook in PRE_COMMIT:
        done = _run([sys.executable, f"tools/pre_commit/{hook}", *files], tree)
        assert done.returncode == 0, f"{hook}: {done.stdout}{done.stderr}"
    head = (tree / files[0]).read_text().splitlines()[:2]
    assert head == (tree / MODELS / "llama.py").read_text().splitlines()[:2]

    classes = [(module, arch) for arch, _, module, _ in CASES.values()]
    fields = sorted({field for *_, expect in CASES.values() for field in expect})
    code = INSPECT.format(classes=classes, fields=fields, tree=str(tree))
    # No __pycache__ in the tree: remove must leave it as it was.
    done = vllm_python(code, tree=tree, env={"PYTHONDONTWRITEBYTECODE": "1"})
    report = _report(done)
    for arch, _, _, expect in CASES.values():
        assert {k: report[arch][k] for k in expect} == expect, arch

    for arch, *_ in reversed(CASES.values()):
        assert remove([arch, "--root", str(tree)]) == 0
    assert _untouched(tree)


PLUGIN_CHECK = """
import json, sys
import pytest
from vllm.plugins import load_general_plugins
load_general_plugins()  # what vLLM runs at start-up: must not raise
from vllm.model_executor.models import ModelRegistry
from vllm.model_executor.models.registry import _ModelInfo
archs = ModelRegistry.get_supported_archs()
info = _ModelInfo.from_model_cls(ModelRegistry._try_load_model_cls({arch!r}))
import vllm_stub.plugins
from vllm_stub.model_executor.models import ModelRegistry as StubRegistry
vllm_stub.plugins.load_general_plugins()  # the stub starts too, beside vLLM
stub_archs = StubRegistry.get_supported_archs()
print("REPORT", json.dumps({{
    "vllm": sorted(a for a in archs if a.startswith("Orca")),
    "stub": sorted(a for a in stub_archs if a.startswith("Orca")),
    "text_generation": info.is_text_generation_model,
    "pp": info.supports_pp,
    "lora": info.supports_lora,
}}))
# The plugin's own generated tests, against the installed plugin.
sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", {tests!r}]))
"""


@pytest.mark.slow
def test_vllm_plugin_loads_in_vllm_and_neither_plugin_breaks_the_other_engine(
    tmp_path, vllm_python, capsys
):
    made, site = tmp_path / "vllm_plugin", tmp_path / "site"
    stub_made = tmp_path / "stub_plugin"
    assert (
        new_plugin(["orca_plugin", "--arch", "OrcaForCausalLM", "--out", str(made)])
        == 0
    )
    stub_argv = ["orca_stub_plugin", "--arch", "OrcaStubForCausalLM"]
    assert (
        new_plugin([*stub_argv, "--engine", "vllm_stub", "--out", str(stub_made)]) == 0
    )
    capsys.readouterr()
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation"]
    pip += ["--quiet", "--target", str(site), str(made), str(stub_made)]
    done = _run(pip, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]

    tests = str(made / "tests")
    code = PLUGIN_CHECK.format(arch="OrcaForCausalLM", tests=tests)
    # The installed plugins first; ROOT for vllm_stub (vLLM's site comes first).
    env = {"PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    done = vllm_python(code, env=env, cwd=tmp_path)
    assert _report(done) == {
        "vllm": ["OrcaForCausalLM"],
        "stub": ["OrcaStubForCausalLM"],
        "text_generation": True,
        "pp": True,
        "lora": True,
    }
    assert "3 passed" in done.stdout, done.stdout[-3000:]
