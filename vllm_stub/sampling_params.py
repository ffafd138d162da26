"""``SamplingParams``: how one request is decoded, validated on creation."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SamplingParams:
    """vLLM's sampling parameters (the subset this engine implements).

    ``temperature=0`` is greedy; ``top_k`` of 0 or -1 and ``top_p=1`` disable
    those filters; ``logprobs=n`` returns the top ``n`` log-probabilities (plus
    the sampled token's) for every generated token. Invalid values raise
    ``ValueError`` naming the field.
    """

    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    max_tokens: int = 16
    stop_token_ids: list[int] | None = None
    ignore_eos: bool = False
    seed: int | None = None
    logprobs: int | None = None

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if not isinstance(self.top_k, int) or self.top_k < -1:
            raise ValueError(f"top_k must be -1 or 0 (off) or >= 1, got {self.top_k}")
        if not isinstance(self.max_tokens, int) or self.max_tokens < 1:
            raise ValueError(f"max_tokens must be an int >= 1, got {self.max_tokens}")
        if self.logprobs is not None and self.logprobs < 0:
            raise ValueError(f"logprobs must be >= 0, got {self.logprobs}")
        if self.seed is not None and not isinstance(self.seed, int):
            raise ValueError(f"seed must be an int or None, got {self.seed!r}")
        stop = self.stop_token_ids or []
        if not all(isinstance(t, int) and t >= 0 for t in stop):
            raise ValueError(
                f"stop_token_ids must be non-negative ints, got {self.stop_token_ids}"
            )
        self.stop_token_ids = list(stop)

    @property
    def greedy(self) -> bool:
        """Whether decoding is argmax (``temperature == 0``)."""
        return self.temperature == 0
