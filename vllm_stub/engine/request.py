"""One request's state while it is generated."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from vllm_stub.multimodal.processing import MultiModalInput
from vllm_stub.outputs import Logprob, PromptLogprobs, SampleLogprobs
from vllm_stub.sample.logits_processors import PenaltyState
from vllm_stub.sampling_params import SamplingParams


@dataclass
class Request:
    """A prompt, its sampling parameters and the tokens generated so far.

    The engine resolves the stopping rules on creation: ``max_tokens`` (the
    params' value, or what fits in the model's length when that is ``None``),
    ``eos_token_id`` (ends with ``stop_reason=None``; ``None`` with
    ``ignore_eos``), ``stop_token_ids`` (end with ``stop_reason`` set to the
    token) and ``min_tokens_stop_ids`` (every EOS and stop token, held back
    until ``min_tokens`` tokens exist). ``slot`` is the KV-cache row it
    occupies while running (-1 otherwise). ``mm_input`` holds a multimodal
    prompt's images and the positions of their tokens.
    """

    request_id: str
    prompt: str | None
    prompt_token_ids: list[int]
    params: SamplingParams
    generator: torch.Generator | None = None
    mm_input: MultiModalInput | None = None
    max_tokens: int = 16
    eos_token_id: int | None = None
    stop_token_ids: frozenset[int] = frozenset()
    min_tokens_stop_ids: list[int] = field(default_factory=list)
    output_token_ids: list[int] = field(default_factory=list)
    logprobs: SampleLogprobs | None = None
    cumulative_logprob: float | None = None
    prompt_logprobs: PromptLogprobs | None = None
    finish_reason: str | None = None
    stop_reason: int | str | None = None
    # decoded output, kept up to date only for requests with stop strings
    output_text: str = ""
    penalties: PenaltyState | None = None
    slot: int = -1

    def __post_init__(self) -> None:
        if self.params.logprobs is not None:
            self.logprobs, self.cumulative_logprob = [], 0.0

    @property
    def num_tokens(self) -> int:
        """Prompt plus generated tokens."""
        return len(self.prompt_token_ids) + len(self.output_token_ids)

    @property
    def last_token_id(self) -> int:
        """The token the next decode step feeds."""
        return self.output_token_ids[-1]

    @property
    def min_tokens_pending(self) -> bool:
        """Whether EOS and stop tokens must still be held back."""
        return len(self.output_token_ids) < self.params.min_tokens and bool(
            self.min_tokens_stop_ids
        )

    def append(
        self, token_id: int, logprobs: dict[int, Logprob] | None, max_model_len: int
    ) -> None:
        """Record a sampled token and set ``finish_reason`` if the request is done."""
        self.output_token_ids.append(token_id)
        if self.penalties is not None:
            self.penalties.add(token_id)
        if logprobs is not None:
            self.logprobs.append(logprobs)
            self.cumulative_logprob += logprobs[token_id].logprob
        if token_id == self.eos_token_id:
            self.finish_reason = "stop"
        elif token_id in self.stop_token_ids:
            self.finish_reason, self.stop_reason = "stop", token_id
        elif (
            len(self.output_token_ids) >= self.max_tokens
            or self.num_tokens >= max_model_len
        ):
            self.finish_reason = "length"
