"""What ``LLM.generate`` returns, shaped like vLLM's outputs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Logprob:
    """A token's log-probability, its rank in the distribution, and its text."""

    logprob: float
    rank: int
    decoded_token: str | None = None


@dataclass
class CompletionOutput:
    """One generated sequence; ``finish_reason`` is ``"length"`` or ``"stop"``."""

    index: int
    text: str
    token_ids: list[int]
    finish_reason: str | None
    logprobs: list[dict[int, Logprob]] | None = None


@dataclass
class RequestOutput:
    """A prompt and its completions (one here)."""

    request_id: str
    prompt: str | None
    prompt_token_ids: list[int]
    outputs: list[CompletionOutput]
    finished: bool = True
