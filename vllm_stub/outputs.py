"""What ``LLM.generate`` returns, shaped like vLLM's outputs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Logprob:
    """A token's log-probability, its rank in the distribution, and its text."""

    logprob: float
    rank: int
    decoded_token: str | None = None


# per position: {token id: Logprob}; a prompt's first position has none
SampleLogprobs = list[dict[int, Logprob]]
PromptLogprobs = list[dict[int, Logprob] | None]


@dataclass
class CompletionOutput:
    """One generated sequence, with vLLM's fields in vLLM's order.

    ``cumulative_logprob`` sums the sampled tokens' log-probabilities (``None``
    unless ``logprobs`` was requested). ``finish_reason`` is ``"length"`` or
    ``"stop"``; ``stop_reason`` is the stop string or ``stop_token_ids`` token
    that ended it (``None`` for EOS and length).
    """

    index: int
    text: str
    token_ids: list[int]
    cumulative_logprob: float | None = None
    logprobs: SampleLogprobs | None = None
    finish_reason: str | None = None
    stop_reason: int | str | None = None

    def finished(self) -> bool:
        """Whether the sequence has ended."""
        return self.finish_reason is not None


@dataclass
class RequestOutput:
    """A prompt and its ``n`` completions (``outputs``, in index order)."""

    request_id: str
    prompt: str | None
    prompt_token_ids: list[int]
    prompt_logprobs: PromptLogprobs | None
    outputs: list[CompletionOutput]
    finished: bool = True
