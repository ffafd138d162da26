"""Finished requests to ``RequestOutput``s: text, logprobs, and ``n`` children.

Mirrors vLLM's output processor: a request with ``n == 1`` becomes a
``RequestOutput`` as soon as it finishes; the children of an ``n > 1`` request
are collected under their parent, whose output appears when the last one ends.
"""

from __future__ import annotations

from collections.abc import Iterable

from vllm_stub.engine.detokenizer import Detokenizer
from vllm_stub.engine.parallel_sampling import ParentRequest
from vllm_stub.engine.request import Request
from vllm_stub.outputs import CompletionOutput, RequestOutput


class OutputProcessor:
    """Builds outputs of finished requests and tracks the parents of children."""

    def __init__(self, detokenizer: Detokenizer) -> None:
        self.detokenizer = detokenizer
        # child request id -> (its parent, its index)
        self._children: dict[str, tuple[ParentRequest, int]] = {}

    def add_parent(self, parent: ParentRequest) -> None:
        """Expect the children of ``parent``."""
        for index, child_id in enumerate(parent.child_ids()):
            self._children[child_id] = (parent, index)

    def expand(self, request_ids: Iterable[str]) -> list[str]:
        """``request_ids`` with each parent replaced by its children."""
        parents = {p.request_id: p for p, _ in self._children.values()}
        expanded = []
        for request_id in request_ids:
            parent = parents.get(request_id)
            expanded.extend(parent.child_ids() if parent else [request_id])
        return expanded

    def abort(self, request_ids: Iterable[str]) -> None:
        """Forget the given (child) requests."""
        for request_id in request_ids:
            self._children.pop(request_id, None)

    def finish(self, request: Request) -> RequestOutput | None:
        """The output that ``request`` finishing completes, if any."""
        parent, index = self._children.pop(request.request_id, (None, 0))
        completion = CompletionOutput(
            index=index,
            text=self.detokenizer.output_text(request),
            token_ids=list(request.output_token_ids),
            cumulative_logprob=request.cumulative_logprob,
            logprobs=request.logprobs,
            finish_reason=request.finish_reason,
            stop_reason=request.stop_reason,
        )
        if parent is None:
            # n == 1: the request is its own parent
            parent = ParentRequest(
                request.request_id,
                request.prompt,
                request.prompt_token_ids,
                request.params,
            )
        if index == 0:
            # only child 0 scores the shared prompt
            parent.prompt_logprobs = request.prompt_logprobs
        if not parent.add(completion):
            return None
        return RequestOutput(
            request_id=parent.request_id,
            prompt=parent.prompt,
            prompt_token_ids=parent.prompt_token_ids,
            prompt_logprobs=parent.prompt_logprobs,
            outputs=list(parent.completions),
        )
