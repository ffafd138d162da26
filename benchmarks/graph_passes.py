"""A traced decode step with and without ``fusion.py``'s rewrites, in one engine.

The engine's backend compiles its traced step twice, as traced and
rewritten by a pass, and the decode steps alternate between the two: both
run on the same weights and caches, in the same spell of this shared
machine, which two engines (each with its own weights' placement) or two
processes do not give (measured: two engines differed by up to 0.5 ms a
step with nothing changed). Prints each one's median step (the forward, not
the LM head) and what the pass saves.

    python benchmarks/graph_passes.py                     # SmolLM2-135M's shape
    python benchmarks/graph_passes.py --model ~/SmolLM2-135M --batches 8 --calls 20
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from _checkpoints import add_model_options, checkpoint, prompts

from vllm_stub import LLM, SamplingParams
from vllm_stub.compilation import decode_graph, fusion

PASSES: dict[str, Callable[[torch.fx.GraphModule], int]] = {
    "rotary into attention": fusion.fuse_rotary_into_attention,
    "norms in place": fusion.norms_in_place,
    "SiLU into its GEMM": fusion.silu_into_gate_up,
}


def _alternating_backend(
    rewrite: Callable[[torch.fx.GraphModule], int], times: list[list[float]]
) -> Callable[..., Any]:
    """A backend whose replays alternate: as traced (times[0]), rewritten (1)."""

    def backend(graph: torch.fx.GraphModule, _inputs: list[Any]) -> Any:
        rewritten = torch.fx.GraphModule(graph, copy.deepcopy(graph.graph))
        rewrite(rewritten)
        rewritten.recompile()
        forwards = [decode_graph._scripted(graph), decode_graph._scripted(rewritten)]

        def step(*args: Any) -> Any:
            which = sum(map(len, times)) % 2
            start = time.perf_counter()
            out = forwards[which](*args)
            times[which].append(time.perf_counter() - start)
            return out

        return step

    return backend


def compare(folder: Path, name: str, batch: int, calls: int) -> None:
    """Print the median step without and with pass ``name`` at ``batch``."""
    times: list[list[float]] = [[], []]
    traced = decode_graph._run_as_traced
    decode_graph._run_as_traced = _alternating_backend(PASSES[name], times)
    try:
        llm = LLM(str(folder), dtype="float32")
        requests = [{"prompt_token_ids": p} for p in prompts(batch, 32).tolist()]
        params = SamplingParams(temperature=0, max_tokens=64, ignore_eos=True)
        llm.generate(requests, params, use_tqdm=False)  # traces, warms up
        for kept in times:
            kept.clear()
        for _ in range(calls):
            llm.generate(requests, params, use_tqdm=False)
    finally:
        decode_graph._run_as_traced = traced
    plain, rewritten = (statistics.median(t) * 1e3 for t in times)
    print(
        f"{name:>22} {batch:>5} {plain:>12.2f} {rewritten:>12.2f} "
        f"{plain - rewritten:>+9.3f} {plain / rewritten:>6.3f}x {len(times[0]):>6}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, build or take the checkpoint, print each pass's rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_options(parser)
    parser.add_argument("--calls", type=int, default=10, help="64-token calls")
    parser.add_argument("--passes", nargs="+", choices=sorted(PASSES), default=PASSES)
    args = parser.parse_args(argv)
    with checkpoint(args) as folder:
        print(
            f"{'pass':>22} {'batch':>5} {'traced ms':>12} {'rewritten ms':>12} "
            f"{'saved ms':>9} {'ratio':>7} {'steps':>6}"
        )
        for name in args.passes:
            for batch in args.batches:
                compare(folder, name, batch, args.calls)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
