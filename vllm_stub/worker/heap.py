"""glibc's heap, told to keep what a step frees for the next step.

A decode step allocates its activations and logits and frees them all at the
end; the next step asks for the same sizes again. glibc's malloc, left to its
defaults, hands the freed top of its heap back to the kernel once it exceeds
a threshold that it sets from the largest block it has mmapped (here the
logits: 6.3 MB at batch 32 on a 49152-token vocabulary), so every step's
memory came back as fresh pages: measured on SmolLM2-135M's shape, 250-520
page faults a step at batch 8 and 600-2100 at batch 32, ~3 us of kernel time
each (1-5 ms a step, 3-5% of it). Blocks up to 32 MB (glibc's ceiling for
this setting) then come from the heap, and the heap is trimmed only past
256 MB of free memory at its top: a step's memory, and a call's KV cache,
stay mapped for the next (measured after a first call: 57-60 faults a step
at batch 8, Python's own arenas, and 0-6 at batch 32).

Once, at load, the opposite is wanted: the packed weights' old memory,
freed as they move to huge pages, goes back to the kernel at once
(``release_freed_memory``), before the thresholds above are set.

vLLM's CPU backend asks for the same thing another way: its documentation
recommends preloading TCMalloc, which keeps freed memory by design. With
another allocator preloaded, these settings reach glibc's unused one and
change nothing. A process whose environment sets glibc's own tunables
(``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_MMAP_THRESHOLD_``, ``GLIBC_TUNABLES``)
keeps its choice.
"""

from __future__ import annotations

import ctypes
import os

_M_TRIM_THRESHOLD = -1  # mallopt's parameter numbers, from glibc's malloc.h
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # the largest glibc accepts on 64-bit systems
TRIM_THRESHOLD = 256 << 20
_USER_TUNABLES = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES")


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def release_freed_memory() -> bool:
    """Give the pages glibc's heap holds free back to the kernel (``malloc_trim``).

    For a one-off release of big blocks (the weights' old memory once they
    moved, ``model_loader/huge_pages.py``) before ``keep_freed_memory``
    makes the heap keep what steps free. Returns whether it ran (glibc only).
    """
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds (see module docstring).

    Returns whether they were set: not on a C library other than glibc, nor
    where the environment sets glibc's tunables itself.
    """
    if any(name in os.environ for name in _USER_TUNABLES):
        return False
    libc = _glibc()
    if libc is None:
        return False
    mallopt = libc.mallopt
    # both at once: setting either stops glibc moving the other on its own
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
