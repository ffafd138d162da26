"""Which requests run in the next step: a prefill batch or a decode batch.

As in nano-vllm, a step is all-prefill (waiting requests, as many as free
slots allow) or all-decode (every running request, one token each); prefill
goes first so that finished requests are replaced as soon as possible.

Each running request holds one slot (a row) of the KV cache. The cache is
sized when nothing runs, for the requests then waiting, so that all prompts of
one ``generate`` call share a single allocation.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from vllm_stub.engine.request import Request


class Scheduler:
    """Waiting and running queues over the slots of the current KV cache."""

    def __init__(self, max_num_seqs: int, max_model_len: int) -> None:
        self.max_num_seqs = max_num_seqs
        self.max_model_len = max_model_len
        self.waiting: deque[Request] = deque()
        self.running: list[Request] = []
        self.free_slots: list[int] = []
        self.cache_len = 0

    def add(self, request: Request) -> None:
        """Queue a request behind those already waiting."""
        self.waiting.append(request)

    def has_unfinished(self) -> bool:
        """Whether any request is still waiting or running."""
        return bool(self.waiting or self.running)

    def cache_len_needed(self, request: Request) -> int:
        """Cache positions ``request`` fills before it must finish."""
        # the last sampled token is never fed back, hence the -1
        budget = len(request.prompt_token_ids) + request.max_tokens - 1
        return min(self.max_model_len, budget)

    def new_cache_shape(self) -> tuple[int, int] | None:
        """``(num_slots, max_len)`` of the KV cache the waiting requests need.

        ``None`` while requests run (a cache in use is never replaced), when
        nothing waits, or when the current cache already fits every waiting
        request.
        """
        if self.running or not self.waiting:
            return None
        max_len = max(self.cache_len_needed(r) for r in self.waiting)
        if self.free_slots and max_len <= self.cache_len:
            return None
        return min(len(self.waiting), self.max_num_seqs), max_len

    def use_cache(self, num_slots: int, max_len: int) -> None:
        """Hand out the slots of a newly bound cache (``0, 0``: none bound)."""
        assert not self.running, "the cache changed under running requests"
        self.free_slots = list(range(num_slots - 1, -1, -1))
        self.cache_len = max_len

    def schedule(self) -> tuple[list[Request], bool]:
        """The requests of the next step and whether it is a prefill step."""
        admitted: list[Request] = []
        # FIFO: a request that outgrows the cache waits (and holds back those
        # behind it) until the running ones finish and a larger cache is made
        while (
            self.waiting
            and self.free_slots
            and self.cache_len_needed(self.waiting[0]) <= self.cache_len
        ):
            request = self.waiting.popleft()
            request.slot = self.free_slots.pop()
            admitted.append(request)
        if admitted:
            self.running.extend(admitted)
            return admitted, True
        return list(self.running), False

    def finish(self, request: Request) -> None:
        """Take a finished request out of the batch and free its slot."""
        self.running.remove(request)
        self.free_slots.append(request.slot)
        request.slot = -1

    def abort(self, request_ids: Iterable[str]) -> None:
        """Drop the given requests, waiting or running, freeing their slots."""
        ids = set(request_ids)
        for request in [r for r in self.running if r.request_id in ids]:
            self.finish(request)
        self.waiting = deque(r for r in self.waiting if r.request_id not in ids)
