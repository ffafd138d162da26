"""Attention layers, as vLLM 0.33 exports them from this package."""

from __future__ import annotations

from vllm_stub.model_executor.layers.attention.attention import Attention
from vllm_stub.model_executor.layers.attention.encoder_only_attention import (
    EncoderOnlyAttention,
)

__all__ = ["Attention", "EncoderOnlyAttention"]
