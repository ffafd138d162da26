"""The engine's packed GEMM against MKL's (``F.linear``), on a step's weights.

All the GEMMs of one forward of SmolLM2-135M's shape (30 layers of QKV, O,
gate-up and down projections, then the LM head over 49152 tokens), each with
its own weights, so that they stream from memory as in the engine: through
the packed kernel (``cpu_fast_paths.packed_gemm`` on weights packed once)
and through ``F.linear`` on plain copies of the same weights, in
alternation, median of ``--repeats`` rounds. Prints ms per step, GFLOP/s and
the weights' GB/s of each, and MKL's time over the kernel's. The outputs are
compared first (within float32 rounding: the two sum in different orders).

    python benchmarks/gemm.py
    python benchmarks/gemm.py --rows 8 32 --repeats 9
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from _checkpoints import SMOLLM2_135M

from vllm_stub.model_executor.layers import cpu_fast_paths


def _step_shapes(config: dict) -> list[tuple[int, int]]:
    """``(outputs, inputs)`` of each GEMM in one forward, in order."""
    hidden, inter = config["hidden_size"], config["intermediate_size"]
    head_dim = hidden // config["num_attention_heads"]
    qkv = hidden + 2 * config["num_key_value_heads"] * head_dim
    layer = [(qkv, hidden), (hidden, hidden), (2 * inter, hidden), (hidden, inter)]
    return layer * config["num_hidden_layers"] + [(config["vocab_size"], hidden)]


def _time_into(run: Callable[[], None], rounds: list[float]) -> None:
    start = time.perf_counter()
    run()
    rounds.append((time.perf_counter() - start) * 1e3)


def _medians_ms(
    rows: int,
    shapes: list[tuple[int, int]],
    plain: list[torch.Tensor],
    packed: list[torch.Tensor],
    repeats: int,
) -> tuple[float, float]:
    """Median ms of one forward's GEMMs over ``rows`` rows: kernel, then MKL."""
    xs = {i: torch.randn(rows, i) for _, i in shapes}
    for (o, i), w, p in zip(shapes, plain, packed, strict=True):
        # sums of ~1000 unit-sized products: float32 rounding, not error
        torch.testing.assert_close(
            cpu_fast_paths.packed_gemm(xs[i], p, o),
            F.linear(xs[i], w),
            rtol=1e-5,
            atol=1e-3,
        )

    def kernel() -> None:
        for (o, i), p in zip(shapes, packed, strict=True):
            cpu_fast_paths.packed_gemm(xs[i], p, o)

    def mkl() -> None:
        for (_, i), w in zip(shapes, plain, strict=True):
            F.linear(xs[i], w)

    kernel(), mkl()  # warm-up
    times: dict[str, list[float]] = {"kernel": [], "mkl": []}
    for _ in range(repeats):
        _time_into(kernel, times["kernel"])
        _time_into(mkl, times["mkl"])
    return statistics.median(times["kernel"]), statistics.median(times["mkl"])


def main(argv: Sequence[str] | None = None) -> int:
    """Time both GEMMs at each row count and print one line per count."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1, 8, 32, 1024])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    shapes = _step_shapes(SMOLLM2_135M)
    plain = [torch.randn(outputs, inputs) for outputs, inputs in shapes]
    packed = [cpu_fast_paths.pack_weight_(w.clone()) for w in plain]
    if any(p is None for p in packed):
        print("the C++ kernels did not build: nothing to compare")
        return 1
    flops_per_row = 2 * sum(o * i for o, i in shapes)
    weight_bytes = 4 * sum(o * i for o, i in shapes)
    print(
        f"one forward's {len(shapes)} GEMMs ({weight_bytes / 2**20:.0f} MiB of "
        f"weights), {args.threads} threads, median of {args.repeats}"
    )
    print(
        f"{'rows':>5} {'kernel ms':>10} {'GFLOP/s':>8} {'GB/s':>6} "
        f"{'MKL ms':>8} {'GFLOP/s':>8} {'MKL/kernel':>11}"
    )
    with torch.inference_mode():
        for rows in args.rows:
            ours, theirs = _medians_ms(rows, shapes, plain, packed, args.repeats)
            print(
                f"{rows:>5} {ours:>10.1f} {rows * flops_per_row / ours / 1e6:>8.0f} "
                f"{weight_bytes / ours / 1e6:>6.1f} {theirs:>8.1f} "
                f"{rows * flops_per_row / theirs / 1e6:>8.0f} {theirs / ours:>10.2f}x"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
