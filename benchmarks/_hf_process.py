"""transformers in a process of its own, for ``generate.py``.

The engine sets process-wide state that a transformers user does not have:
its model runner tells glibc's malloc to keep freed memory
(``vllm_stub/worker/heap.py``), which also spares transformers' decode
steps their page faults (measured, a process each: 214-219 ms a step at
batch 32 with glibc's defaults, 177-210 with the engine's setting). So
transformers runs in a spawned process, with the defaults, driven call by
call: its runs still alternate with the engine's, and each call is timed
inside the worker, around ``generate`` alone.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import torch
import transformers
from _checkpoints import prompts
from _measure import memory


def hf_generate(model: Any, ids: torch.Tensor, tokens: int, **inputs: Any) -> None:
    """Greedy ``generate`` of exactly ``tokens`` new tokens per prompt."""
    with torch.inference_mode():
        model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            do_sample=False,
            max_new_tokens=tokens,
            min_new_tokens=tokens,
            pad_token_id=0,
            **inputs,
        )


def _load(folder: Path, prompt_len: int) -> Callable[[int, int], float]:
    """A freshly loaded model's timed generate call: ``run(batch, tokens) -> s``."""
    hf = transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    hf.eval()

    def run(batch: int, tokens: int) -> float:
        ids = prompts(batch, prompt_len)
        start = time.perf_counter()
        hf_generate(hf, ids, tokens)
        return time.perf_counter() - start

    return run


def _serve(conn: Connection, folder: Path, threads: int, prompt_len: int) -> None:
    """The worker: loads, then answers each ``(batch, tokens)`` with its seconds."""
    torch.set_num_threads(threads)
    run = _load(folder, prompt_len)
    conn.send("loaded")
    while (request := conn.recv()) is not None:
        conn.send(run(*request))


def _measure_memory(
    conn: Connection, folder: Path, threads: int, prompt_len: int, batch: int, new: int
) -> None:
    torch.set_num_threads(threads)
    conn.send(memory(lambda: _load(folder, prompt_len), batch, new))


def _spawn(target: Callable[..., None], *args: Any) -> tuple[Connection, Any]:
    context = multiprocessing.get_context("spawn")  # inherits none of our state
    conn, child = context.Pipe()
    process = context.Process(target=target, args=(child, *args), daemon=True)
    process.start()
    return conn, process


class TransformersProcess:
    """A worker process holding transformers' model of ``folder``, loaded.

    Its prompts are ``prompt_len`` tokens long, as ``prompts()`` makes them.
    """

    def __init__(self, folder: Path, threads: int, prompt_len: int) -> None:
        self._conn, self._process = _spawn(_serve, folder, threads, prompt_len)
        self._conn.recv()  # loaded

    def run(self, batch: int, tokens: int) -> float:
        """Seconds of one generate call of ``batch`` prompts, ``tokens`` new each."""
        self._conn.send((batch, tokens))
        return self._conn.recv()

    def close(self) -> None:
        """End the worker."""
        self._conn.send(None)
        self._process.join()


def transformers_memory(
    folder: Path, threads: int, prompt_len: int, batch: int, new: int
) -> tuple[float, float]:
    """``memory`` of transformers, measured in a fresh worker process."""
    conn, process = _spawn(_measure_memory, folder, threads, prompt_len, batch, new)
    result = conn.recv()
    process.join()
    return result
