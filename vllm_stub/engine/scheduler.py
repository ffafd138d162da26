"""Which requests run in the next step: a prefill batch or a decode batch.

As in nano-vllm, a step is all-prefill (waiting requests, as many as free
slots allow) or all-decode (every running request, one token each); prefill
goes first so that finished requests are replaced as soon as possible.
"""

from __future__ import annotations

from collections import deque

from vllm_stub.engine.request import Request


class Scheduler:
    """Waiting and running queues over a fixed number of KV-cache slots."""

    def __init__(self, requests: list[Request], num_slots: int) -> None:
        self.waiting = deque(requests)
        self.running: list[Request] = []
        self.free_slots = list(range(num_slots - 1, -1, -1))

    def has_unfinished(self) -> bool:
        """Whether any request is still waiting or running."""
        return bool(self.waiting or self.running)

    def schedule(self) -> tuple[list[Request], bool]:
        """The requests of the next step and whether it is a prefill step."""
        admitted: list[Request] = []
        while self.waiting and self.free_slots:
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
