"""The engine's CPU-only speed tricks for attention and its KV cache.

The attention layer and the model runner call these instead of writing the
plain form; as in ``cpu_fast_paths``, each docstring says what the function
computes, what it buys and why it is correct.
"""

from __future__ import annotations

import torch

from vllm_stub import _custom_ops
from vllm_stub.forward_context import AttentionMetadata
from vllm_stub.model_executor.layers import cpu_fast_paths


def equal_length_batch(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, meta: AttentionMetadata
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
    """Prefill's ``[heads, tokens, dim]`` as ``[seqs, heads, len, dim]``, or None.

    Buys one attention call (and one cache slice per tensor) for a batch of
    prompts instead of one per prompt: 4x less attention time for 32 prompts
    of 32 tokens. Possible when every prompt has the same length and their
    slots are consecutive (``first_slot``), as a batch of equal prompts does;
    then the packed tokens are exactly the rows of the batched view, and the
    causal mask of each sequence is the same top-left one.
    """
    starts = meta.query_start_loc
    if meta.first_slot is None or starts is None:
        return None
    length = starts[1] - starts[0]
    count = len(starts) - 1
    if count < 2 or starts[-1] != count * length:
        return None
    if any(b - a != length for a, b in zip(starts, starts[1:], strict=False)):
        return None
    return tuple(x.unflatten(1, (count, length)).transpose(0, 1) for x in (q, k, v))


def unbatch(out: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`equal_length_batch` for its attention output."""
    return out.transpose(0, 1).flatten(1, 2)


def first_slot_if_consecutive(slot_ids: list[int]) -> int | None:
    """The first slot when ``slot_ids`` run ``s, s+1, ...``; else ``None``.

    Recorded in the batch metadata (``first_slot``) so that attention can
    address the batch's cache rows as one slice (see below). The scheduler
    hands out slots in order, so batches are usually consecutive.
    """
    first = slot_ids[0]
    return first if slot_ids == list(range(first, first + len(slot_ids))) else None


def write_decode_kv(
    cache: torch.Tensor, new: torch.Tensor, meta: AttentionMetadata
) -> None:
    """``cache[meta.slots, :, meta.context_lens - 1] = new`` (``[batch, kv, dim]``).

    Buys a plain strided copy instead of an indexed scatter each step and
    layer. Correct when the slots are consecutive (``first_slot``) and every
    sequence writes the same position (no ``attn_mask``: all context lengths
    are equal), since the indexed rows are then exactly that slice.
    """
    if meta.first_slot is not None and meta.attn_mask is None:
        first, position = meta.first_slot, meta.max_context_len - 1
        cache[first : first + len(meta.slots), :, position] = new
    else:
        cache[meta.slots, :, meta.context_lens - 1] = new


def running_kv(cache: torch.Tensor, meta: AttentionMetadata) -> torch.Tensor:
    """``cache[meta.slots, :, :meta.max_context_len]``: ``[batch, kv, len, dim]``.

    Buys a view instead of a copy of the whole running context each step and
    layer when the slots are consecutive: the indexed rows are then exactly
    the slice from ``first_slot``. Otherwise ``index_select`` on the
    length-sliced view, because advanced indexing mixed with a slice takes a
    slow path on CPU (~100x slower here); both gather the same rows.
    """
    cached = cache[:, :, : meta.max_context_len]
    if meta.first_slot is not None:
        return cached[meta.first_slot : meta.first_slot + len(meta.slots)]
    return cached.index_select(0, meta.slots)


def bind_kv_cache(
    layer_id: int,
    kv_cache: tuple[torch.Tensor, torch.Tensor] | None,
    bound: bool,
) -> bool:
    """Give the kernels ``kv_cache`` to find by ``layer_id``; whether they hold it.

    ``None`` takes back what ``bound`` says they hold. Buys a decode graph
    without the caches among its inputs (see ``csrc/cpu/kv_cache_table.cpp``:
    about 0.3 ms a step at batch 8). Only float32 caches are bound: the
    kernel's dtype, and the only one a traced decode step uses.
    """
    if kv_cache is not None and kv_cache[0].dtype == torch.float32:
        kernels = _custom_ops.kernels()
        if kernels is not None:
            kernels.bind_kv_cache(layer_id, *kv_cache)
            return True
    if bound:  # the kernels are loaded, whether kernels() still offers them
        torch.ops.vllm_stub_cpu.bind_kv_cache(layer_id, None, None)
    return False


def decode_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    layer_id: int,
    meta: AttentionMetadata,
    scale: float,
    sliding_window: int | None,
) -> torch.Tensor | None:
    """A decode step's attention in one kernel call, or ``None`` without it.

    ``query``/``key``/``value`` are ``[batch, heads * dim]``, one token per
    sequence, and the cache is the one bound to ``layer_id`` (by
    :func:`bind_kv_cache`). The kernel writes each key and value at
    ``context_lens - 1`` of the sequence's slot, then attends over that
    sequence's own length (its last ``sliding_window`` positions when set).
    Buys the whole attention block in one call instead of a dozen ops, and
    reads no padding: sequences of unequal length need no mask. Same maths as
    the SDPA path it replaces (softmax of scaled dot products, maximum
    subtracted first).
    """
    kernels = cpu_fast_paths.kernels_for(query, key, value)
    if kernels is None:
        return None
    return kernels.decode_attention(
        query,
        key,
        value,
        layer_id,
        meta.slots,
        meta.context_lens,
        scale,
        sliding_window or 0,
    )
