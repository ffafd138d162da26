"""The per-step forward context: how attention layers get their metadata.

The runner sets it around each model call (nano-vllm's ``set_context``), so
model ``forward`` signatures stay vLLM's, free of cache and batch arguments.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class AttentionMetadata:
    """Where a flat token batch sits in the KV cache.

    Prefill: sequence ``i`` owns tokens ``query_start_loc[i]:query_start_loc[i+1]``,
    all new, written at cache positions ``0..len-1`` of ``slots[i]``.
    Decode: one token per sequence, written at ``context_lens[i] - 1``; it
    attends to ``context_lens[i]`` positions (``attn_mask`` is ``None`` when all
    sequences have the same length).
    """

    is_prefill: bool
    slots: torch.Tensor
    query_start_loc: list[int] | None = None
    context_lens: torch.Tensor | None = None
    max_context_len: int = 0
    attn_mask: torch.Tensor | None = None
    # Set when ``slots`` are consecutive from this slot: attention then reads
    # and writes the cache through slices (see ``cpu_attention_paths``).
    first_slot: int | None = None


@dataclass(frozen=True)
class ForwardContext:
    """What the current forward pass carries besides its arguments."""

    attn_metadata: AttentionMetadata | None


_forward_context = ForwardContext(attn_metadata=None)


def get_forward_context() -> ForwardContext:
    """The context of the forward pass in progress (metadata ``None`` outside one)."""
    return _forward_context


@contextmanager
def set_forward_context(attn_metadata: AttentionMetadata | None) -> Iterator[None]:
    """Make ``attn_metadata`` visible to attention layers for one forward pass."""
    global _forward_context
    previous = _forward_context
    _forward_context = ForwardContext(attn_metadata=attn_metadata)
    try:
        yield
    finally:
        _forward_context = previous
