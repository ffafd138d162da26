"""The package's top-level names are vLLM's, and importing them stays light."""

from __future__ import annotations

import subprocess
import sys

import vllm_stub


def test_model_registry_is_exported_at_the_top_level_without_torch() -> None:
    code = (
        "import sys\n"
        "from vllm_stub import ModelRegistry\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "assert 'LlamaForCausalLM' in ModelRegistry.get_supported_archs()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert result.returncode == 0, result.stderr.decode()


def test_top_level_names_are_the_ones_vllm_exports() -> None:
    from vllm_stub.engine.llm_engine import LLMEngine
    from vllm_stub.model_executor.models import ModelRegistry

    assert vllm_stub.ModelRegistry is ModelRegistry
    assert vllm_stub.LLMEngine is LLMEngine
    expected = {"LLM", "LLMEngine", "ModelRegistry", "SamplingParams"}
    assert expected | {"RequestOutput", "CompletionOutput"} <= set(vllm_stub.__all__)
