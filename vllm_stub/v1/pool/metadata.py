"""``PoolingMetadata``: where each sequence of a flat batch sits, for poolers.

Named as vLLM's (``pooling_params``, ``get_pooling_cursor()`` with
``first_token_indices_gpu``/``last_token_indices_gpu``) so pooler code reads
the same; every prompt is prefilled whole here, so nothing is ever partial.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate

import torch

from vllm_stub.pooling_params import PoolingParams


@dataclass(frozen=True)
class PoolingCursor:
    """First and last flat-batch row of each sequence, and their lengths."""

    first_token_indices_gpu: torch.Tensor
    last_token_indices_gpu: torch.Tensor
    prompt_lens_cpu: torch.Tensor
    num_scheduled_tokens_cpu: torch.Tensor

    def is_partial_prefill(self) -> bool:
        """Always ``False``: prompts are never split across steps here."""
        return False


@dataclass(frozen=True)
class PoolingMetadata:
    """The prompts of one pooling batch, their params and tasks."""

    prompt_lens: torch.Tensor
    prompt_token_ids: list[list[int]]
    pooling_params: list[PoolingParams]

    @property
    def tasks(self) -> list[str | None]:
        """Each request's pooling task."""
        return [params.task for params in self.pooling_params]

    def get_pooling_cursor(self) -> PoolingCursor:
        """The rows of each sequence in the flat batch."""
        starts = torch.tensor([0, *accumulate(self.prompt_lens.tolist())])
        return PoolingCursor(
            first_token_indices_gpu=starts[:-1],
            last_token_indices_gpu=starts[1:] - 1,
            prompt_lens_cpu=self.prompt_lens,
            num_scheduled_tokens_cpu=self.prompt_lens,
        )
