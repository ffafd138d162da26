"""Greedy and random sampling, in vLLM 0.33's order of logits processing.

Per row: stop tokens masked while shorter than ``min_tokens``, then the
penalties (both can change an argmax), then greedy argmax or, for sampled rows,
temperature, ``min_p``, ``top_k`` and ``top_p`` before the draw. Log-probs are
taken from the raw logits (vLLM's default ``raw_logprobs`` mode).

Rows that ask for nothing beyond plain greedy share one vectorised argmax and
skip all per-row work; sampled rows are drawn one by one so each request can
use its own seeded generator, which makes a seeded request reproducible
whatever else is in the batch.
"""

from __future__ import annotations

import torch

from vllm_stub.engine.request import Request
from vllm_stub.model_executor.layers import cpu_fast_paths
from vllm_stub.outputs import Logprob
from vllm_stub.sample.logits_processors import (
    PenaltyState,
    apply_penalties,
    mask_tokens,
)
from vllm_stub.sample.logprobs import Decode, sample_logprobs
from vllm_stub.sampling_params import SamplingParams


def _processed_logits(logits: torch.Tensor, request: Request) -> torch.Tensor:
    """The row after ``min_tokens`` and the penalties (a new tensor)."""
    params = request.params
    if request.min_tokens_pending:
        logits = mask_tokens(logits, request.min_tokens_stop_ids)
    if params.has_penalties:
        if request.penalties is None:
            request.penalties = PenaltyState(
                request.prompt_token_ids, request.output_token_ids, logits.shape[-1]
            )
        logits = apply_penalties(logits, params, request.penalties)
    return logits


def _filtered_logits(logits: torch.Tensor, params: SamplingParams) -> torch.Tensor:
    """One row's logits after temperature, min-p, top-k and top-p (removed = -inf)."""
    logits = logits / params.temperature
    if params.min_p > 0:
        probs = logits.softmax(-1)
        logits = logits.masked_fill(probs < params.min_p * probs.max(), float("-inf"))
    if 0 < params.top_k < logits.shape[-1]:
        kth_largest = logits.topk(params.top_k).values[-1]
        logits = logits.masked_fill(logits < kth_largest, float("-inf"))
    if params.top_p < 1:
        sorted_logits, order = logits.sort(descending=True)
        probs = sorted_logits.softmax(-1)
        # drop a token once the tokens ranked above it already reach top_p
        drop = (probs.cumsum(-1) - probs) >= params.top_p
        logits = logits.index_fill(-1, order[drop], float("-inf"))
    return logits


def sample(
    logits: torch.Tensor,
    requests: list[Request],
    default_generator: torch.Generator,
    decode: Decode = None,
) -> list[tuple[int, dict[int, Logprob] | None]]:
    """Pick the next token of every request (row ``i`` of ``logits`` is request ``i``).

    Returns ``(token_id, logprobs or None)`` per request; requests without a
    seed draw from ``default_generator`` (seeded by the engine).
    """
    # each tensor op below runs with the CPU caches just emptied by the LM
    # head's weights (~15-25 us each), so rows are taken only where needed
    if logits.dtype != torch.float32:
        logits = logits.float()
    token_ids = cpu_fast_paths.argmax_rows(logits).tolist()
    results = []
    for i, request in enumerate(requests):
        params = request.params
        row = None
        if request.min_tokens_pending or params.has_penalties:
            row = _processed_logits(logits[i], request)
            if params.greedy:
                token_ids[i] = int(row.argmax())
        if not params.greedy:
            row = logits[i] if row is None else row
            probs = _filtered_logits(row, params).softmax(-1)
            generator = request.generator or default_generator
            token_ids[i] = int(torch.multinomial(probs, 1, generator=generator))
        lps = None
        if params.logprobs is not None:
            lps = sample_logprobs(logits[i], token_ids[i], params.logprobs, decode)
        results.append((token_ids[i], lps))
    return results
