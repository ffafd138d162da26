"""``AttentionType``: which tokens a layer's queries attend to (vLLM 0.33)."""

from __future__ import annotations

from enum import Enum


class AttentionType(str, Enum):
    """Attention type; a ``str`` so that model code may compare with literals."""

    DECODER = "decoder"
    """Causal self-attention (decoder-only models)."""
    ENCODER = "encoder"
    """Encoder self-attention of an encoder-decoder model."""
    ENCODER_ONLY = "encoder_only"
    """Bidirectional self-attention (encoder-only and embedding models)."""
    ENCODER_DECODER = "encoder_decoder"
    """Decoder queries against encoder keys and values."""
