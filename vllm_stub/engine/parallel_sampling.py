"""``n > 1``: one prompt fans out into ``n`` child requests, as in vLLM.

Child ``i`` is named ``f"{i}_{request_id}"`` and, when the parent is seeded,
draws with seed ``seed + i``, so each completion is reproducible on its own.
The parent's output is returned once every child has finished, completions in
index order (vLLM's ``LLM`` behaviour).
"""

from __future__ import annotations

import dataclasses

from vllm_stub.outputs import CompletionOutput, PromptLogprobs
from vllm_stub.sampling_params import SamplingParams


class ParentRequest:
    """The ``n`` children of one request and the completions they produced."""

    def __init__(
        self,
        request_id: str,
        prompt: str | None,
        prompt_token_ids: list[int],
        params: SamplingParams,
    ) -> None:
        self.request_id = request_id
        self.prompt = prompt
        self.prompt_token_ids = prompt_token_ids
        self.params = params
        self.prompt_logprobs: PromptLogprobs | None = None
        self.completions: list[CompletionOutput | None] = [None] * params.n

    def child_ids(self) -> list[str]:
        """The children's request ids, by index."""
        return [f"{index}_{self.request_id}" for index in range(self.params.n)]

    def child_params(self, index: int) -> SamplingParams:
        """Child ``index``'s parameters: one sequence, its own seed."""
        seed = self.params.seed
        return dataclasses.replace(
            self.params,
            n=1,
            seed=None if seed is None else seed + index,
            # the prompt is shared: score it once
            prompt_logprobs=self.params.prompt_logprobs if index == 0 else None,
        )

    def add(self, completion: CompletionOutput) -> bool:
        """Record a child's completion; whether all ``n`` are now in."""
        self.completions[completion.index] = completion
        return all(c is not None for c in self.completions)
