"""What ``LLM.generate``, ``embed`` and ``classify`` return, shaped like vLLM's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

import torch


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


@dataclass
class PoolingOutput:
    """What a pooler produced for one request (``data``: a tensor)."""

    data: torch.Tensor


_O = TypeVar("_O")


@dataclass
class PoolingRequestOutput(Generic[_O]):
    """A pooling request's prompt and its pooled output, as vLLM's."""

    request_id: str
    outputs: _O
    prompt_token_ids: list[int]
    num_cached_tokens: int = 0
    finished: bool = True


@dataclass
class EmbeddingOutput:
    """One embedding vector (a list of floats)."""

    embedding: list[float]

    @staticmethod
    def from_base(pooling_output: PoolingOutput) -> EmbeddingOutput:
        """The vector of a 1-D pooled tensor."""
        if pooling_output.data.ndim != 1:
            raise ValueError("pooled_data should be a 1-D embedding vector")
        return EmbeddingOutput(pooling_output.data.tolist())

    @property
    def hidden_size(self) -> int:
        """The vector's length."""
        return len(self.embedding)


@dataclass
class ClassificationOutput:
    """One probability vector over the classes."""

    probs: list[float]

    @staticmethod
    def from_base(pooling_output: PoolingOutput) -> ClassificationOutput:
        """The probabilities of a 1-D pooled tensor."""
        if pooling_output.data.ndim != 1:
            raise ValueError("pooled_data should be a 1-D probability vector")
        return ClassificationOutput(pooling_output.data.tolist())

    @property
    def num_classes(self) -> int:
        """How many classes there are."""
        return len(self.probs)


def _converted(request_output: PoolingRequestOutput, outputs: object) -> dict:
    return {
        "request_id": request_output.request_id,
        "outputs": outputs,
        "prompt_token_ids": request_output.prompt_token_ids,
        "num_cached_tokens": request_output.num_cached_tokens,
        "finished": request_output.finished,
    }


class EmbeddingRequestOutput(PoolingRequestOutput[EmbeddingOutput]):
    """``LLM.embed``'s result: the vector is ``.outputs.embedding``."""

    @staticmethod
    def from_base(request_output: PoolingRequestOutput) -> EmbeddingRequestOutput:
        """The embedding view of a pooling output."""
        outputs = EmbeddingOutput.from_base(request_output.outputs)
        return EmbeddingRequestOutput(**_converted(request_output, outputs))


class ClassificationRequestOutput(PoolingRequestOutput[ClassificationOutput]):
    """``LLM.classify``'s result: the probabilities are ``.outputs.probs``."""

    @staticmethod
    def from_base(
        request_output: PoolingRequestOutput,
    ) -> ClassificationRequestOutput:
        """The classification view of a pooling output."""
        outputs = ClassificationOutput.from_base(request_output.outputs)
        return ClassificationRequestOutput(**_converted(request_output, outputs))
