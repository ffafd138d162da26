"""The packed weights' memory, moved onto 2 MiB pages where Linux offers them.

Why: a decode step streams every packed weight through the GEMM once, and
on 4 KiB pages each 4 KiB of it costs a TLB miss and a page walk, with page
tables that the stream itself keeps pushing out of the caches. Measured on
SmolLM2-135M's shape (508 MiB packed), 2 threads, a process each,
alternating: its GEMMs and attention for one token, 30 layers and the LM
head, 19.4 / 16.4 / 18.2 / 19.3 -> 17.0 / 14.2 / 17.0 / 15.2 ms a step
(the README's performance section has the whole engine).

The weights of one model lie in one anonymous mapping, advised
``MADV_HUGEPAGE`` before anything touches it, so the kernel faults it in as
2 MiB pages. Each weight keeps its tensor object (``Tensor.set_`` points it
at its part of the mapping), so whoever holds it, a layer's GEMM or a tied
embedding, sees the move; the old memory is freed as each one moves, so
the model is held twice only one weight at a time. Where transparent huge
pages are off (``never``), or the platform has no ``madvise``, nothing
moves.
"""

from __future__ import annotations

import mmap
from pathlib import Path

import torch

from vllm_stub.worker.heap import release_freed_memory

HUGE_PAGE = 2 << 20
_THP_SETTING = Path("/sys/kernel/mm/transparent_hugepage/enabled")
_LINE = 64  # each weight starts on a cache line, as the heap would start it


def huge_pages_offered() -> bool:
    """Transparent huge pages are ``always`` or ``madvise``, and madvise exists."""
    if not hasattr(mmap, "MADV_HUGEPAGE"):
        return False
    try:
        setting = _THP_SETTING.read_text()
    except OSError:
        return False
    return "[always]" in setting or "[madvise]" in setting


def move_to_huge_pages(weights: list[torch.Tensor]) -> int:
    """Move the data of ``weights`` (contiguous tensors) into one huge-page mapping.

    In place: each tensor object keeps its shape, values and holders.
    Returns the bytes moved: 0 where huge pages are not offered.
    """
    unique = list({w.data_ptr(): w for w in weights if w.numel() > 0}.values())
    sizes = [-(-w.nbytes // _LINE) * _LINE for w in unique]
    if not huge_pages_offered() or not sizes:
        return 0
    # private: a shared anonymous mapping is shmem, which THP's setting skips.
    # Whole huge pages from a boundary on (the kernel maps only those as huge
    # pages), and one more of slack to find that boundary in.
    flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
    whole_pages = -(-sum(sizes) // HUGE_PAGE) * HUGE_PAGE
    region = mmap.mmap(-1, whole_pages + HUGE_PAGE, flags=flags)
    region.madvise(mmap.MADV_HUGEPAGE)
    start = -torch.frombuffer(region, dtype=torch.uint8).data_ptr() % HUGE_PAGE
    with torch.no_grad():
        for weight, size in zip(unique, sizes, strict=True):
            # a storage of its own (each keeps the mapping alive), from offset
            # 0 as before: dynamo makes offsets that differ between two models
            # traced in one process inputs of their graphs
            moved = torch.frombuffer(
                region, dtype=weight.dtype, count=weight.numel(), offset=start
            )
            moved.copy_(weight.reshape(-1))
            weight.set_(moved.untyped_storage(), 0, weight.shape)
            # the heap keeps what a weight freed: given back at once, the
            # model is held twice one weight at a time, not whole
            release_freed_memory()
            start += size
    return sum(sizes)
