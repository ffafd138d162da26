"""The MLP's SiLU folded into its gate/up GEMM (fusion.py, csrc/cpu/gemm.cpp).

``packed_gemm_silu_and_mul`` must give exactly what ``packed_gemm`` then
``silu_and_mul`` give, since :func:`silu_into_gate_up` swaps one for the
other in every traced decode step; the pass is checked on small traced
graphs: what it folds, what it leaves alone, and that a second run changes
nothing.
"""

from __future__ import annotations

import pytest
import torch
from torch.fx import GraphModule, symbolic_trace

from vllm_stub.compilation.fusion import silu_into_gate_up


def _packed(ops, outputs: int, inputs: int) -> torch.Tensor:
    weight = torch.randn(outputs, inputs)
    ops.pack_weight_(weight)
    return weight.view(outputs // 16, inputs, 16)


# rows: 1-3 (the GEMM, then the SiLU), 4 on (per panel pair), and 50 rows of
# 1536 inputs, past the 42 that fill one chunk; outputs: one pair of panels,
# three pairs
@pytest.mark.parametrize("rows", [1, 2, 3, 4, 8, 13, 50])
@pytest.mark.parametrize(("outputs", "inputs"), [(32, 40), (96, 1536)])
@pytest.mark.parametrize("with_bias", [False, True])
def test_fused_op_gives_the_bits_of_gemm_then_silu(
    ops, rows: int, outputs: int, inputs: int, with_bias: bool
) -> None:
    torch.manual_seed(rows)
    packed, x = _packed(ops, outputs, inputs), torch.randn(rows, inputs)
    bias = torch.randn(outputs) if with_bias else None
    expected = ops.silu_and_mul(ops.packed_gemm(x, packed, outputs, bias))
    got = ops.packed_gemm_silu_and_mul(x, packed, outputs, bias)
    assert got.shape == (rows, outputs // 2)
    assert torch.equal(got, expected)


def test_fused_op_refuses_halves_that_split_a_panel(ops) -> None:
    packed = _packed(ops, 48, 16)  # halves of 24: the up half starts mid-panel
    with pytest.raises(RuntimeError, match="gate and up halves of whole panels"):
        ops.packed_gemm_silu_and_mul(torch.randn(8, 16), packed, 48, None)


def _traced_mlp(outputs: int = 64, keep_gemm: bool = False) -> GraphModule:
    """An MLP's gate/up GEMM and SiLU, traced as a model's step has them.

    ``keep_gemm`` also returns the GEMM's output, which the fused op never
    writes.
    """
    ops = torch.ops.vllm_stub_cpu

    def step(x, packed):
        both = ops.packed_gemm(x, packed, outputs, None)
        out = ops.silu_and_mul(both)
        return (out, both) if keep_gemm else out

    return symbolic_trace(step)


def test_the_pass_folds_a_silu_that_alone_reads_its_gemm(ops, run_rewrite) -> None:
    graph = _traced_mlp()
    unfused, calls = run_rewrite(graph, silu_into_gate_up, 1)
    assert calls == ["vllm_stub_cpu.packed_gemm_silu_and_mul"]
    x, packed = torch.randn(8, 32), _packed(ops, 64, 32)
    assert torch.equal(graph(x, packed), unfused(x, packed))


@pytest.mark.parametrize("variant", [{"keep_gemm": True}, {"outputs": 48}])
def test_the_pass_leaves_other_graphs_alone(ops, run_rewrite, variant: dict) -> None:
    graph = _traced_mlp(**variant)
    before, _ = run_rewrite(graph, silu_into_gate_up, 0)
    assert graph.code == before.code
