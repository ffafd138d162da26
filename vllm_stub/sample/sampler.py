"""Greedy and random sampling with temperature, top-k and top-p, plus logprobs.

Greedy rows share one vectorised argmax; sampled rows are drawn one by one so
each request can use its own seeded generator, which makes a seeded request
reproducible whatever else is in the batch.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from vllm_stub.engine.request import Request
from vllm_stub.outputs import Logprob
from vllm_stub.sampling_params import SamplingParams


def _filtered_logits(logits: torch.Tensor, params: SamplingParams) -> torch.Tensor:
    """One row's logits after temperature, top-k and top-p (removed = -inf)."""
    logits = logits / params.temperature
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


def _logprobs(
    logits: torch.Tensor,
    token_id: int,
    num: int,
    decode: Callable[[int], str] | None,
) -> dict[int, Logprob]:
    """The sampled token's log-probability and the top ``num`` ones."""
    logprobs = logits.log_softmax(-1)
    chosen = logprobs[token_id]
    entries = {token_id: (chosen.item(), int((logprobs > chosen).sum()) + 1)}
    if num:
        top = logprobs.topk(num)
        for rank, (value, tid) in enumerate(
            zip(top.values.tolist(), top.indices.tolist(), strict=True), start=1
        ):
            entries.setdefault(tid, (value, rank))
    return {
        tid: Logprob(value, rank, decode(tid) if decode else None)
        for tid, (value, rank) in entries.items()
    }


def sample(
    logits: torch.Tensor,
    requests: list[Request],
    default_generator: torch.Generator,
    decode: Callable[[int], str] | None = None,
) -> list[tuple[int, dict[int, Logprob] | None]]:
    """Pick the next token of every request (row ``i`` of ``logits`` is request ``i``).

    Returns ``(token_id, logprobs or None)`` per request; requests without a
    seed draw from ``default_generator`` (seeded by the engine).
    """
    logits = logits.float()
    token_ids = logits.argmax(dim=-1).tolist()
    results = []
    for i, request in enumerate(requests):
        params = request.params
        if not params.greedy:
            probs = _filtered_logits(logits[i], params).softmax(-1)
            generator = request.generator or default_generator
            token_ids[i] = int(torch.multinomial(probs, 1, generator=generator))
        lps = None
        if params.logprobs is not None:
            lps = _logprobs(logits[i], token_ids[i], params.logprobs, decode)
        results.append((token_ids[i], lps))
    return results
