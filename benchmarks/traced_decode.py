"""Traced decode steps (the default) against eager ones, on one checkpoint.

Two engines on the same weights, one with ``enforce_eager=True``; for each
batch size, a decode step's time on each, in alternation, best of
``--repeats`` rounds (a step is the whole generate call less its prefill, per
new token), and the ratio. First, the time each batch size's first call took
on the traced engine beyond the other's: the tracing.

``--against python-graph`` makes the other engine a traced one too, whose
graphs run their ops from Python (``VLLM_STUB_TORCHSCRIPT=0`` while it
traces): what TorchScript's replay buys, and its compile time.

    python benchmarks/traced_decode.py                 # SmolLM2-135M's shape
    python benchmarks/traced_decode.py --model ~/SmolLM2-135M
    python benchmarks/traced_decode.py --against python-graph
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from unittest import mock

from _checkpoints import add_model_options, checkpoint, prompts

from vllm_stub import LLM, SamplingParams

PROMPT_LEN = 32


@dataclass(frozen=True)
class _Engine:
    llm: LLM
    torchscript: bool = True  # graphs it traces run by TorchScript


def _call_s(engine: _Engine, batch: int, tokens: int) -> float:
    requests = [{"prompt_token_ids": p} for p in prompts(batch, PROMPT_LEN).tolist()]
    params = SamplingParams(temperature=0, max_tokens=tokens, ignore_eos=True)
    # any call may trace (a new batch size): under the engine's own setting
    torchscript = {"VLLM_STUB_TORCHSCRIPT": "1" if engine.torchscript else "0"}
    with mock.patch.dict(os.environ, torchscript):
        start = time.perf_counter()
        engine.llm.generate(requests, params, use_tqdm=False)
        return time.perf_counter() - start


def _step_s(engine: _Engine, batch: int, tokens: int) -> float:
    """One decode step: the call less its prefill (a call of one token)."""
    return (_call_s(engine, batch, tokens) - _call_s(engine, batch, 1)) / (tokens - 1)


def _rows(engines: dict[str, _Engine], args: argparse.Namespace) -> None:
    """Tracing time per batch size, then the decode rows."""
    traced, other = engines  # the names, in the columns' order
    for batch in args.batches:  # the first call of each batch size traces
        first = {name: _call_s(engine, batch, 2) for name, engine in engines.items()}
        print(f"batch {batch}: tracing {first[traced] - first[other]:.1f} s")
    print(f"batch  decode ms/step {traced} / {other}  ratio")
    for batch in args.batches:
        best = dict.fromkeys(engines, float("inf"))
        for _ in range(args.repeats):
            for name, engine in engines.items():
                best[name] = min(best[name], _step_s(engine, batch, args.new_tokens))
        ms = {name: seconds * 1e3 for name, seconds in best.items()}
        print(
            f"{batch:5}  {ms[traced]:14.1f} / {ms[other]:5.1f}"
            f"  {ms[other] / ms[traced]:5.2f}x"
        )


def _engines(folder: str, against: str) -> dict[str, _Engine]:
    traced = _Engine(LLM(folder, dtype="float32"))
    if against == "eager":
        return {
            "traced": traced,
            "eager": _Engine(LLM(folder, dtype="float32", enforce_eager=True)),
        }
    python_graph = _Engine(LLM(folder, dtype="float32"), torchscript=False)
    return {"torchscript": traced, "python-graph": python_graph}


def main(argv: Sequence[str] | None = None) -> int:
    """Print the tracing times, then one row per batch size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_options(parser)
    parser.add_argument("--against", choices=["eager", "python-graph"], default="eager")
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    name = args.model or "random-weight 135m checkpoint"
    print(f"{name}, fp32, {args.threads} threads, against {args.against}")
    with checkpoint(args) as folder:
        _rows(_engines(str(folder), args.against), args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
