"""Example Hugging Face models for every architecture in the registry.

Every architecture registered in ``vllm_stub/model_executor/models/registry.py``
needs an entry here (``scaffold check`` reports ``example-missing``
otherwise), in the dict of the same kind, in registry order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class _HfExamplesInfo:
    """Where to find an example checkpoint of one architecture."""

    default: str
    """The default model to use for testing this architecture."""

    extras: Mapping[str, str] = field(default_factory=dict)
    """Extra models to use for testing this architecture."""

    is_available_online: bool = True
    """False for architectures whose checkpoints are not public yet."""

    trust_remote_code: bool = False
    """The ``trust_remote_code`` level required to load the model."""


_TEXT_GENERATION_EXAMPLE_MODELS = {
    # [Decoder-only]
    "AquilaForCausalLM": _HfExamplesInfo("BAAI/AquilaChat2-7B", trust_remote_code=True),
    "AquilaModel": _HfExamplesInfo("BAAI/AquilaChat-7B", trust_remote_code=True),
    "InternLM3ForCausalLM": _HfExamplesInfo(
        "internlm/internlm3-8b-instruct", trust_remote_code=True
    ),
    "LLaMAForCausalLM": _HfExamplesInfo(
        "decapoda-research/llama-7b-hf", is_available_online=False
    ),
    "LlamaForCausalLM": _HfExamplesInfo("meta-llama/Llama-3.2-1B-Instruct"),
    "Qwen2ForCausalLM": _HfExamplesInfo("Qwen/Qwen2-0.5B-Instruct"),
    "XverseForCausalLM": _HfExamplesInfo(
        "xverse/XVERSE-7B-Chat", trust_remote_code=True
    ),
}

_EMBEDDING_EXAMPLE_MODELS: dict[str, _HfExamplesInfo] = {}

_CROSS_ENCODER_EXAMPLE_MODELS: dict[str, _HfExamplesInfo] = {}

_MULTIMODAL_EXAMPLE_MODELS: dict[str, _HfExamplesInfo] = {
    "LlavaForConditionalGeneration": _HfExamplesInfo("llava-hf/llava-1.5-7b-hf"),
}

_EXAMPLE_MODELS = {
    **_TEXT_GENERATION_EXAMPLE_MODELS,
    **_EMBEDDING_EXAMPLE_MODELS,
    **_CROSS_ENCODER_EXAMPLE_MODELS,
    **_MULTIMODAL_EXAMPLE_MODELS,
}
