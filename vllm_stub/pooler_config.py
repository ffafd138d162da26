"""``PoolerConfig``: how a pooling model pools, as vLLM's ``config/pooler.py``.

``vllm_stub.config`` re-exports it; the model config fills the pooling types
from the model class's defaults when they are left ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from vllm_stub.model_executor.models.interfaces_base import (
    SequencePoolingType,
    TokenPoolingType,
)

SEQ_POOLING_TYPES = get_args(SequencePoolingType)
TOK_POOLING_TYPES = get_args(TokenPoolingType)


@dataclass
class PoolerConfig:
    """Pooling options; ``None`` fields take the model's defaults."""

    task: str | None = None
    seq_pooling_type: SequencePoolingType | None = None
    tok_pooling_type: TokenPoolingType | None = None
    use_activation: bool | None = None
    dimensions: int | None = None
    logit_mean: float | None = None
    logit_sigma: float | None = None

    def __post_init__(self) -> None:
        if self.seq_pooling_type not in (None, *SEQ_POOLING_TYPES):
            raise ValueError(
                f"seq_pooling_type must be one of {SEQ_POOLING_TYPES}, "
                f"got {self.seq_pooling_type!r}"
            )
        if self.tok_pooling_type not in (None, *TOK_POOLING_TYPES):
            raise ValueError(
                f"tok_pooling_type must be one of {TOK_POOLING_TYPES}, "
                f"got {self.tok_pooling_type!r}"
            )

    def get_seq_pooling_type(self) -> SequencePoolingType:
        """The resolved sequence pooling type."""
        if self.seq_pooling_type is None:
            raise ValueError("seq_pooling_type is not set; ModelConfig resolves it")
        return self.seq_pooling_type

    def get_tok_pooling_type(self) -> TokenPoolingType:
        """The resolved token pooling type."""
        if self.tok_pooling_type is None:
            raise ValueError("tok_pooling_type is not set; ModelConfig resolves it")
        return self.tok_pooling_type
