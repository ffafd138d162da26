"""A minimal, vLLM-shaped inference engine for in-tree parity tests.

The engine's names are exported lazily (PEP 562) so that light modules such as
``vllm_stub.model_executor.models.registry`` can be imported without torch.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module that defines it
_LAZY_EXPORTS = {
    "LLM": "vllm_stub.entrypoints.llm",
    "SamplingParams": "vllm_stub.sampling_params",
    "RequestOutput": "vllm_stub.outputs",
    "CompletionOutput": "vllm_stub.outputs",
    "LLMEngine": "vllm_stub.engine.llm_engine",
    # vLLM exports the registry at the top level; this import stays torch-free
    "ModelRegistry": "vllm_stub.model_executor.models.registry",
}

__all__ = sorted(_LAZY_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import an exported name on first use."""
    module = _LAZY_EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
