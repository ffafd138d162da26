"""LogitsProcessor: the LM head's logits, trimmed to the vocabulary, capped, scaled."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from vllm_stub.model_executor.layers.logits_processor import LogitsProcessor
from vllm_stub.model_executor.layers.vocab_parallel_embedding import ParallelLMHead


def _head(rows: int, dim: int = 16) -> ParallelLMHead:
    head = ParallelLMHead(rows, dim)
    head.weight.data.copy_(
        torch.randn(rows, dim, generator=torch.Generator().manual_seed(0))
    )
    return head


@pytest.mark.parametrize("vocab", [24, 21])  # the head's own rows, and padded by 3
def test_logits_keep_the_vocabulary_columns_only(vocab: int) -> None:
    head, hidden = _head(24), torch.randn(5, 16)
    logits = LogitsProcessor(vocab)(head, hidden)
    assert logits.shape == (5, vocab)
    torch.testing.assert_close(logits, F.linear(hidden, head.weight)[:, :vocab])


def test_soft_cap_then_scale() -> None:
    head, hidden = _head(24), torch.randn(3, 16)
    logits = LogitsProcessor(21, soft_cap=2.0, scale=0.5)(head, hidden)
    plain = F.linear(hidden, head.weight)[:, :21]
    torch.testing.assert_close(logits, torch.tanh(plain / 2.0) * 2.0 * 0.5)
