"""One request's state while it is generated."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from vllm_stub.outputs import Logprob
from vllm_stub.sampling_params import SamplingParams


@dataclass
class Request:
    """A prompt, its sampling parameters and the tokens generated so far.

    ``slot`` is the KV-cache row it occupies while running (-1 otherwise).
    """

    request_id: str
    prompt: str | None
    prompt_token_ids: list[int]
    params: SamplingParams
    generator: torch.Generator | None = None
    output_token_ids: list[int] = field(default_factory=list)
    logprobs: list[dict[int, Logprob]] | None = None
    finish_reason: str | None = None
    slot: int = -1

    @property
    def num_tokens(self) -> int:
        """Prompt plus generated tokens."""
        return len(self.prompt_token_ids) + len(self.output_token_ids)

    @property
    def last_token_id(self) -> int:
        """The token the next decode step feeds."""
        return self.output_token_ids[-1]

    def append(
        self,
        token_id: int,
        logprobs: dict[int, Logprob] | None,
        stop_ids: set[int],
        max_model_len: int,
    ) -> None:
        """Record a sampled token and set ``finish_reason`` if the request is done."""
        self.output_token_ids.append(token_id)
        if logprobs is not None:
            self.logprobs = [*(self.logprobs or []), logprobs]
        if token_id in stop_ids:
            self.finish_reason = "stop"
        elif (
            len(self.output_token_ids) >= self.params.max_tokens
            or self.num_tokens >= max_model_len
        ):
            self.finish_reason = "length"
