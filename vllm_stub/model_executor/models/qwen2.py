"""Inference-only Qwen2: Llama's structure with a bias on q/k/v (not o_proj)."""

from __future__ import annotations

from transformers import PretrainedConfig

from vllm_stub.config import VllmConfig
from vllm_stub.model_executor.models.llama import LlamaDecoderLayer, LlamaForCausalLM


class Qwen2DecoderLayer(LlamaDecoderLayer):
    """A Llama decoder layer whose q/k/v projections always carry a bias."""

    @staticmethod
    def attention_biases(config: PretrainedConfig) -> tuple[bool, bool]:
        """``(qkv_bias, o_proj_bias)``: Qwen2 checkpoints have q/k/v biases only."""
        return True, False


class Qwen2ForCausalLM(LlamaForCausalLM):
    """Qwen2 with its LM head: the class the registry resolves."""

    def __init__(self, *, vllm_config: VllmConfig, prefix: str = "") -> None:
        super().__init__(
            vllm_config=vllm_config, prefix=prefix, layer_type=Qwen2DecoderLayer
        )
