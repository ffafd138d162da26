"""``EncoderOnlyAttention``: bidirectional attention over each sequence.

vLLM 0.33 model files import ``Attention`` from this module too, so it is
re-exported here.
"""

from __future__ import annotations

from typing import Any

from vllm_stub.model_executor.layers.attention.attention import Attention
from vllm_stub.v1.attention.backend import AttentionType

__all__ = ["Attention", "EncoderOnlyAttention"]


class EncoderOnlyAttention(Attention):
    """Every token attends to every token of its sequence (no KV cache needed)."""

    def __init__(
        self,
        num_heads: int,
        head_size: int,
        scale: float,
        cache_config: Any = None,
        attn_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        if attn_type not in (None, AttentionType.ENCODER_ONLY):
            raise ValueError(
                f"EncoderOnlyAttention takes attn_type ENCODER_ONLY, got {attn_type}"
            )
        super().__init__(
            num_heads,
            head_size,
            scale,
            cache_config=cache_config,
            attn_type=AttentionType.ENCODER_ONLY,
            **kwargs,
        )
