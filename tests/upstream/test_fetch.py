"""Smoke tests: the cached vLLM release tree and package are usable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, changed_files, fetch

INSPECT_LLAMA = """\
import json
import vllm
from vllm.model_executor.models.llama import LlamaForCausalLM
from vllm.model_executor.models.registry import _ModelInfo
from vllm.plugins import load_general_plugins

load_general_plugins()
info = _ModelInfo.from_model_cls(LlamaForCausalLM)
print(json.dumps({"version": vllm.__version__, **{
    name: getattr(info, name)
    for name in ("is_text_generation_model", "is_pooling_model",
                 "supports_multimodal", "supports_pp", "supports_lora")
}}))
"""


def test_source_tree_is_the_release(vllm_source: Path) -> None:
    registry = vllm_source / "vllm" / "model_executor" / "models" / "registry.py"
    assert "_TEXT_GENERATION_MODELS = {" in registry.read_text(encoding="utf-8")
    for part in ("docs/models/supported_models.md", "tests/models/registry.py"):
        assert (vllm_source / part).is_file(), part
    assert (vllm_source / "tools" / "pre_commit" / "check_spdx_header.py").is_file()
    assert f"Version: {fetch.VERSION}\n" in (vllm_source / "PKG-INFO").read_text()


def test_git_copy_starts_clean(upstream_tree: Path) -> None:
    assert (upstream_tree / "vllm" / "model_executor" / "models" / "llama.py").is_file()
    assert not (upstream_tree / "docs" / "assets").exists()
    assert changed_files(upstream_tree) == []
    (upstream_tree / "vllm" / "model_executor" / "models" / "orca.py").write_text("")
    assert changed_files(upstream_tree) == ["vllm/model_executor/models/orca.py"]


def test_cached_fetch_is_instant_and_complete(vllm_source: Path, vllm_site: Path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "fetch_vllm.py"), "--print-paths"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    state = json.loads(done.stdout)
    assert state["source"] == str(vllm_source) and state["source_ready"]
    assert state["site"] == str(vllm_site) and state["site_ready"]
    assert fetch.main([]) == 0  # cached: nothing to fetch


@pytest.mark.slow
def test_real_vllm_inspects_llama(vllm_python) -> None:
    done = vllm_python(INSPECT_LLAMA)
    assert done.returncode == 0, done.stderr[-3000:]
    info = json.loads(done.stdout.strip().splitlines()[-1])
    assert info == {
        "version": fetch.VERSION,
        "is_text_generation_model": True,
        "is_pooling_model": False,
        "supports_multimodal": False,
        "supports_pp": True,
        "supports_lora": True,
    }
