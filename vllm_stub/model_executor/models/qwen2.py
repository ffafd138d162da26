"""Inference-only Qwen2: Llama's structure with a bias on q/k/v (not o_proj)."""

from __future__ import annotations

from itertools import islice

from vllm_stub.config import VllmConfig
from vllm_stub.model_executor.layers.linear import QKVParallelLinear
from vllm_stub.model_executor.models.llama import LlamaForCausalLM


class Qwen2ForCausalLM(LlamaForCausalLM):
    """Qwen2 with its LM head: the class the registry resolves.

    Qwen2 configs carry no ``attention_bias``, so Llama builds its attention
    without biases; Qwen2 checkpoints have them on q/k/v (and none on
    ``o_proj``), so each layer's fused q/k/v projection is then rebuilt with a
    bias. ``llama.py`` follows the model template, which has no hook for a
    separate q/k/v bias, hence the rebuild instead of a subclassed layer.
    """

    def __init__(self, *, vllm_config: VllmConfig, prefix: str = "") -> None:
        super().__init__(vllm_config=vllm_config, prefix=prefix)
        model = self.model
        for layer in islice(model.layers, model.start_layer, model.end_layer):
            attn = layer.self_attn
            attn.qkv_proj = QKVParallelLinear(
                hidden_size=attn.hidden_size,
                head_size=attn.head_dim,
                total_num_heads=attn.num_heads,
                total_num_kv_heads=attn.num_kv_heads,
                bias=True,
                quant_config=vllm_config.quant_config,
                prefix=attn.qkv_proj.prefix,
            )
