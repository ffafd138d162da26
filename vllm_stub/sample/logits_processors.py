"""Logits changes that can move the argmax: ``min_tokens`` and the penalties.

vLLM applies these before greedy or random sampling, in this order: stop tokens
are masked while a sequence is shorter than ``min_tokens``, then the repetition
penalty (HF's rule, over prompt and output tokens), then the frequency and
presence penalties (OpenAI's rule, over output tokens). Only requests that ask
for one of them pay for it.
"""

from __future__ import annotations

import torch

from vllm_stub.sampling_params import SamplingParams


class PenaltyState:
    """Which tokens one request's prompt holds and how often each was generated.

    Kept on the request and updated as tokens are appended, so a step reads the
    counts instead of rebuilding them from the token lists.
    """

    def __init__(
        self, prompt_token_ids: list[int], output_token_ids: list[int], vocab: int
    ) -> None:
        self.prompt_mask = torch.zeros(vocab, dtype=torch.bool)
        self.prompt_mask[torch.tensor(prompt_token_ids)] = True
        self.output_counts = torch.zeros(vocab)
        for token_id in output_token_ids:
            self.add(token_id)

    def add(self, token_id: int) -> None:
        """Count one more generated ``token_id``."""
        self.output_counts[token_id] += 1


def apply_penalties(
    logits: torch.Tensor, params: SamplingParams, state: PenaltyState
) -> torch.Tensor:
    """One row's logits after the repetition, frequency and presence penalties."""
    counts = state.output_counts
    generated = counts > 0
    if params.repetition_penalty != 1.0:
        penalty = params.repetition_penalty
        # shrink a seen token's logit toward zero-probability from either side
        scale = torch.where(logits > 0, 1.0 / penalty, penalty)
        logits = torch.where(state.prompt_mask | generated, logits * scale, logits)
    if params.frequency_penalty:
        logits = logits - params.frequency_penalty * counts
    if params.presence_penalty:
        logits = logits - params.presence_penalty * generated
    return logits


def mask_tokens(logits: torch.Tensor, token_ids: list[int]) -> torch.Tensor:
    """``logits`` with ``token_ids`` made impossible (used for ``min_tokens``)."""
    return logits.index_fill(-1, torch.tensor(token_ids), float("-inf"))
