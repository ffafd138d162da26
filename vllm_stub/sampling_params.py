"""``SamplingParams``: how one request is decoded, validated on creation."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

logger = logging.getLogger(__name__)

# vLLM's thresholds: below _SAMPLING_EPS a temperature means greedy; a positive
# temperature below _MAX_TEMP is raised to it (smaller ones overflow softmax).
_SAMPLING_EPS = 1e-5
_MAX_TEMP = 1e-2


@dataclass
class SamplingParams:
    """vLLM 0.33's sampling parameters (the subset this engine implements).

    ``temperature=0`` is greedy (and then needs ``n=1``); ``top_k`` of 0 or -1,
    ``top_p=1`` and ``min_p=0`` disable those filters. ``n`` completions are
    drawn per prompt. Generation ends at ``max_tokens`` (``None``: the model's
    maximum length), an EOS token (unless ``ignore_eos``), a ``stop_token_ids``
    token or a ``stop`` string (cut from the text unless
    ``include_stop_str_in_output``); EOS and stop tokens are held back until
    ``min_tokens`` tokens exist. ``repetition_penalty`` scales the logits of
    prompt and output tokens (HF's rule); ``presence_penalty`` and
    ``frequency_penalty`` subtract from those of output tokens (OpenAI's rule).
    ``logprobs=k`` returns the top ``k`` log-probabilities plus the sampled
    token's for every generated token, ``prompt_logprobs=k`` the same for every
    prompt token after the first. Invalid values raise ``ValueError`` naming
    the field.
    """

    n: int = 1
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    repetition_penalty: float = 1.0
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    min_p: float = 0.0
    seed: int | None = None
    stop: str | list[str] | None = None
    stop_token_ids: list[int] | None = None
    ignore_eos: bool = False
    max_tokens: int | None = 16
    min_tokens: int = 0
    logprobs: int | None = None
    prompt_logprobs: int | None = None
    include_stop_str_in_output: bool = False

    def __post_init__(self) -> None:
        if 0 < self.temperature < _MAX_TEMP:
            logger.warning(
                "temperature %s is less than %s, which may cause numerical "
                "errors; it is raised to %s",
                self.temperature,
                _MAX_TEMP,
                _MAX_TEMP,
            )
            self.temperature = _MAX_TEMP
        if self.seed == -1:
            self.seed = None
        if self.stop is None:
            self.stop = []
        elif isinstance(self.stop, str):
            self.stop = [self.stop]
        elif isinstance(self.stop, tuple):
            self.stop = list(self.stop)
        # duplicates dropped, order kept
        self.stop_token_ids = list(dict.fromkeys(self.stop_token_ids or []))
        if self.logprobs is True:
            self.logprobs = 1
        if self.prompt_logprobs is True:
            self.prompt_logprobs = 1
        self._verify_args()
        if self.greedy:
            # the filters cannot change an argmax
            self.top_p, self.top_k, self.min_p = 1.0, 0, 0.0
            if self.n > 1:
                raise ValueError(
                    f"n must be 1 when using greedy sampling, got {self.n}"
                )

    def _verify_args(self) -> None:
        _check(isinstance(self.n, int), f"n must be an int, got {self.n!r}")
        _check(self.n >= 1, f"n must be at least 1, got {self.n}")
        for name in ("presence_penalty", "frequency_penalty"):
            value = getattr(self, name)
            _check(-2.0 <= value <= 2.0, f"{name} must be in [-2, 2], got {value}")
        rep = self.repetition_penalty
        _check(math.isfinite(rep), f"repetition_penalty must be finite, got {rep}")
        _check(rep > 0, f"repetition_penalty must be greater than zero, got {rep}")
        temp = self.temperature
        _check(math.isfinite(temp), f"temperature must be finite, got {temp}")
        _check(0 <= temp <= 2, f"temperature must be in [0, 2], got {temp}")
        _check(0 < self.top_p <= 1, f"top_p must be in (0, 1], got {self.top_p}")
        _check(
            isinstance(self.top_k, int) and self.top_k >= -1,
            f"top_k must be -1 or 0 (off) or >= 1, got {self.top_k}",
        )
        _check(0 <= self.min_p <= 1, f"min_p must be in [0, 1], got {self.min_p}")
        _check(
            self.max_tokens is None
            or (isinstance(self.max_tokens, int) and self.max_tokens >= 1),
            f"max_tokens must be an int >= 1 or None, got {self.max_tokens}",
        )
        _check(
            isinstance(self.min_tokens, int) and self.min_tokens >= 0,
            f"min_tokens must be an int >= 0, got {self.min_tokens}",
        )
        _check(
            self.max_tokens is None or self.min_tokens <= self.max_tokens,
            f"min_tokens must be less than or equal to "
            f"max_tokens={self.max_tokens}, got {self.min_tokens}",
        )
        for name in ("logprobs", "prompt_logprobs"):
            value = getattr(self, name)
            _check(
                value is None or (isinstance(value, int) and value >= 0),
                f"{name} must be an int >= 0 or None, got {value}",
            )
        _check(
            self.seed is None or isinstance(self.seed, int),
            f"seed must be an int or None, got {self.seed!r}",
        )
        _check(
            all(isinstance(t, int) and t >= 0 for t in self.stop_token_ids),
            f"stop_token_ids must be non-negative ints, got {self.stop_token_ids}",
        )
        _check(
            isinstance(self.stop, list) and all(isinstance(s, str) for s in self.stop),
            f"stop must be a string or a list of strings, got {self.stop!r}",
        )
        _check(all(self.stop), "stop cannot contain an empty string")

    @property
    def greedy(self) -> bool:
        """Whether decoding is argmax (``temperature`` of 0)."""
        return self.temperature < _SAMPLING_EPS

    @property
    def has_penalties(self) -> bool:
        """Whether any repetition, presence or frequency penalty is active."""
        return (
            self.repetition_penalty != 1.0
            or self.presence_penalty != 0.0
            or self.frequency_penalty != 0.0
        )


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)
