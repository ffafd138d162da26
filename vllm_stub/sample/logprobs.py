"""Log-probability dicts for sampled and prompt tokens, as vLLM returns them.

As vLLM 0.33 (``logprobs_mode="raw_logprobs"``), log-probabilities come from the
model's raw logits: before penalties, temperature and the top-k/top-p/min-p
filters. Each position maps the scored token and the top ``num`` tokens to a
``Logprob`` whose rank is 1 + the number of tokens more likely than it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from vllm_stub.outputs import Logprob, PromptLogprobs

Decode = Callable[[int], str] | None


def token_logprobs(
    logprobs: torch.Tensor, token_id: int, num: int, decode: Decode
) -> dict[int, Logprob]:
    """``token_id``'s log-probability and the top ``num`` ones of one position."""
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


def sample_logprobs(
    logits: torch.Tensor, token_id: int, num: int, decode: Decode
) -> dict[int, Logprob]:
    """One generated position's dict from its raw logits row."""
    return token_logprobs(logits.log_softmax(-1), token_id, num, decode)


def prompt_logprobs(
    logits: torch.Tensor, prompt_token_ids: list[int], num: int, decode: Decode
) -> PromptLogprobs:
    """Per prompt token, its log-probability given the tokens before it.

    ``logits`` holds one row per prompt position; row ``i`` predicts token
    ``i + 1`` (the last row predicts a generated token and is not used). The
    first token has no context, hence ``None`` there, as in vLLM.
    """
    logprobs = logits[: len(prompt_token_ids) - 1].float().log_softmax(-1)
    return [
        None,
        *(
            token_logprobs(row, token_id, num, decode)
            for row, token_id in zip(logprobs, prompt_token_ids[1:], strict=True)
        ),
    ]
