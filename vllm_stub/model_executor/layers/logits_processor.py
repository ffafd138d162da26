"""Hidden states to vocabulary logits."""

from __future__ import annotations

import torch
from torch import nn

from vllm_stub.model_executor.layers.utils import unquantized_gemm
from vllm_stub.model_executor.layers.vocab_parallel_embedding import (
    VocabParallelEmbedding,
)


class LogitsProcessor(nn.Module):
    """Project with the LM head, then apply soft-cap and scale, trim padding."""

    def __init__(
        self,
        vocab_size: int,
        org_vocab_size: int | None = None,
        scale: float = 1.0,
        logits_as_input: bool = False,
        soft_cap: float | None = None,
    ) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.org_vocab_size = org_vocab_size or vocab_size
        self.scale = scale
        self.logits_as_input = logits_as_input
        self.soft_cap = soft_cap

    def forward(
        self,
        lm_head: VocabParallelEmbedding,
        hidden_states: torch.Tensor,
        embedding_bias: torch.Tensor | None = None,
        skip_gather: bool = False,
    ) -> torch.Tensor:
        """Logits ``[num_tokens, vocab]`` for the given hidden states.

        ``skip_gather`` (keep each tensor-parallel rank's shard) changes
        nothing with one rank.
        """
        if self.logits_as_input:
            logits = hidden_states
        else:
            bias = getattr(lm_head, "bias", None)
            if embedding_bias is not None:
                bias = embedding_bias if bias is None else bias + embedding_bias
            # left strided: copying a [batch, vocab] transpose costs more than
            # the sampler's reads of it
            logits = unquantized_gemm(lm_head, hidden_states, bias)
        # sliced only where padded: an op more costs ~15 us in a decode step,
        # which runs it with the CPU caches just emptied by the LM head
        if logits.shape[-1] != self.org_vocab_size:
            logits = logits[..., : self.org_vocab_size]
        if self.soft_cap is not None:
            logits = torch.tanh(logits / self.soft_cap) * self.soft_cap
        if self.scale != 1.0:
            logits = logits * self.scale
        return logits

    def get_top_tokens(
        self,
        lm_head: VocabParallelEmbedding,
        hidden_states: torch.Tensor,
        embedding_bias: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The argmax token of each row (vLLM's speculative-decoding shortcut)."""
        return self(lm_head, hidden_states, embedding_bias).argmax(dim=-1)
