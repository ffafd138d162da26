"""Timing, memory and GEMM-floor helpers for ``generate.py``."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import resource
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import torch

from vllm_stub.model_executor.layers.linear import LinearBase
from vllm_stub.model_executor.layers.utils import unquantized_gemm


def best_time(fn: Callable[[], object], repeats: int) -> float:
    """The fastest of ``repeats`` timed calls (after one warm-up call)."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def rss_mib() -> float:
    """Current resident set size."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


class PeakRss:
    """The highest RSS seen while the block runs, sampled every few ms.

    ``ru_maxrss`` is one number per process, and the engine's process holds
    more than one engine in turn (hence sampling).
    """

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss_mib())

    @contextlib.contextmanager
    def watch(self) -> Iterator[None]:
        """Sample for the duration of the block (nestable only once)."""
        self.peak = max(self.peak, rss_mib())
        thread = threading.Thread(target=self._sample, daemon=True)
        thread.start()
        try:
            yield
        finally:
            self._stop.set()
            thread.join()
            self._stop.clear()
            self.peak = max(self.peak, rss_mib())


def released() -> float:
    """Free what is unused and return the RSS left: the baseline for the next engine.

    glibc keeps freed heap memory resident for reuse; it is handed back first,
    or the next engine would fill it without raising the RSS, and its peak
    would read low by that much.
    """
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return rss_mib()


def memory(
    load: Callable[[], Callable[[int, int], object]], batch: int, new: int
) -> tuple[float, float]:
    """Peak RSS above the baseline while loading and generating; growth after.

    ``load()`` returns ``run(batch, new_tokens)``; the caller loads nothing
    else meanwhile, so that the peak is this model's own.
    """
    watch, base = PeakRss(), released()
    with watch.watch():
        run = load()
        run(batch, new)
    after = []
    for _ in range(3):  # RSS must stay flat over repeated calls
        run(batch, new)
        after.append(rss_mib())
    return watch.peak - base, after[-1] - after[0]


def gemm_step_s(
    model: torch.nn.Module, rows: int, logits_rows: int, steps: int
) -> float:
    """Seconds per forward of ``rows`` tokens through the linear layers and LM head.

    Uses the GEMM the engine's layers call, so the floor stays the engine's.
    Timed as a decode is: ``steps`` forwards back to back, one total over
    them. The fastest single forward would pick this shared machine's
    quietest 30 ms, which no run of consecutive decode steps gets (measured:
    up to 13% below the mean of 63 in a row).
    """
    layers = [m for m in model.modules() if isinstance(m, LinearBase)]
    inputs = {m.input_size: torch.randn(rows, m.input_size) for m in layers}
    head_input = torch.randn(logits_rows, model.lm_head.embedding_dim)

    def step() -> None:
        for layer in layers:
            unquantized_gemm(layer, inputs[layer.input_size])
        unquantized_gemm(model.lm_head, head_input)

    def decode() -> None:
        for _ in range(steps):
            step()

    with torch.inference_mode():
        return best_time(decode, 1) / steps
