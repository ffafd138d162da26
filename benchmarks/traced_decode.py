"""Traced decode steps (the default) against eager ones, on one checkpoint.

Two engines on the same weights, one with ``enforce_eager=True``; for each
batch size, a decode step's time on each, in alternation, best of
``--repeats`` rounds (a step is the whole generate call less its prefill, per
new token), and the ratio. First, the time each batch size's first call took
on the traced engine beyond the eager one's: the tracing.

    python benchmarks/traced_decode.py                 # SmolLM2-135M's shape
    python benchmarks/traced_decode.py --model ~/SmolLM2-135M
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import torch
from _checkpoints import llama, prompts

from vllm_stub import LLM, SamplingParams

PROMPT_LEN = 32


def _call_s(llm: LLM, batch: int, tokens: int) -> float:
    requests = [{"prompt_token_ids": p} for p in prompts(batch, PROMPT_LEN).tolist()]
    params = SamplingParams(temperature=0, max_tokens=tokens, ignore_eos=True)
    start = time.perf_counter()
    llm.generate(requests, params, use_tqdm=False)
    return time.perf_counter() - start


def _step_s(llm: LLM, batch: int, tokens: int) -> float:
    """One decode step: the call less its prefill (a call of one token)."""
    return (_call_s(llm, batch, tokens) - _call_s(llm, batch, 1)) / (tokens - 1)


def _rows(engines: dict[str, LLM], args: argparse.Namespace) -> None:
    """Tracing time per batch size, then the decode rows."""
    for batch in args.batches:  # the first call of each batch size traces
        first = {name: _call_s(llm, batch, 2) for name, llm in engines.items()}
        print(f"batch {batch}: tracing {first['traced'] - first['eager']:.1f} s")
    print("batch  decode ms/step traced / eager  ratio")
    for batch in args.batches:
        best = dict.fromkeys(engines, float("inf"))
        for _ in range(args.repeats):
            for name, llm in engines.items():
                best[name] = min(best[name], _step_s(llm, batch, args.new_tokens))
        traced, eager = best["traced"] * 1e3, best["eager"] * 1e3
        print(f"{batch:5}  {traced:13.1f} / {eager:5.1f}  {eager / traced:5.2f}x")


def main(argv: Sequence[str] | None = None) -> int:
    """Print the tracing times, then one row per batch size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a local checkpoint folder")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    name = args.model or "random-weight 135m checkpoint"
    print(f"{name}, fp32, {args.threads} threads")
    with tempfile.TemporaryDirectory() as tmp:
        folder = str(args.model or llama(Path(tmp), "135m"))
        engines = {
            "traced": LLM(folder, dtype="float32"),
            "eager": LLM(folder, dtype="float32", enforce_eager=True),
        }
        _rows(engines, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
