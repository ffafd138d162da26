"""General plugins through real entry points (a ``*.dist-info`` on sys.path).

Each case runs in a fresh interpreter, because loading is once per process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ENTRY_POINTS = """\
[vllm_stub.general_plugins]
good = tiny_plugins:register_good
other = tiny_plugins:register_other
crashing = tiny_plugins:register_crashing
unimportable = tiny_plugins_missing:register
"""

PLUGIN_MODULE = """\
import os

from vllm_stub.model_executor.models import ModelRegistry

CALLS = []


def register_good():
    CALLS.append("good")
    if "GoodForCausalLM" not in ModelRegistry.get_supported_archs():
        ModelRegistry.register_model("GoodForCausalLM", "tiny_plugins:Good")


def register_other():
    CALLS.append("other")


def register_crashing():
    CALLS.append("crashing")
    raise RuntimeError("plugin exploded")
"""

RUNNER = """\
import json, logging, sys
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
from vllm_stub.plugins import load_general_plugins
from vllm_stub.model_executor.models import ModelRegistry
load_general_plugins()
load_general_plugins()
import tiny_plugins
print(json.dumps({
    "calls": tiny_plugins.CALLS,
    "good_registered": "GoodForCausalLM" in ModelRegistry.get_supported_archs(),
    "plugin_module_imported_model": "torch" in sys.modules,
}))
"""


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("site")
    dist_info = root / "tiny_plugins-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: tiny-plugins\nVersion: 0.1\n"
    )
    (dist_info / "entry_points.txt").write_text(ENTRY_POINTS)
    (root / "tiny_plugins.py").write_text(PLUGIN_MODULE)
    return root


def run_plugins(plugin_dir: Path, vllm_plugins: str | None) -> tuple[dict, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(plugin_dir), str(Path(__file__).resolve().parents[2])]
    )
    env.pop("VLLM_PLUGINS", None)
    if vllm_plugins is not None:
        env["VLLM_PLUGINS"] = vllm_plugins
    out = subprocess.run(
        [sys.executable, "-c", RUNNER],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(out.stdout), out.stderr


def test_unset_loads_every_plugin_once(plugin_dir):
    result, log = run_plugins(plugin_dir, None)
    assert sorted(result["calls"]) == ["crashing", "good", "other"]
    assert result["good_registered"]
    # registered lazily by string: nothing imported torch
    assert not result["plugin_module_imported_model"]
    assert "crashing" in log and "plugin exploded" in log
    assert "Failed to load plugin unimportable" in log


def test_filter_by_name(plugin_dir):
    result, log = run_plugins(plugin_dir, "good")
    assert result["calls"] == ["good"]
    assert "unimportable" not in log


def test_filter_strips_spaces_and_reports_unknown_names(plugin_dir):
    result, log = run_plugins(plugin_dir, "other, nosuch")
    assert result["calls"] == ["other"]
    assert not result["good_registered"]
    assert "nosuch" in log and "not found" in log


def test_empty_value_loads_none(plugin_dir):
    result, _ = run_plugins(plugin_dir, "")
    assert result["calls"] == []


def test_a_failing_plugin_does_not_stop_the_others(plugin_dir):
    result, log = run_plugins(plugin_dir, "crashing,good")
    assert sorted(result["calls"]) == ["crashing", "good"]
    assert result["good_registered"]
    assert "Plugin crashing failed" in log
