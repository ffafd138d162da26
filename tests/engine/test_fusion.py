"""The traced step's rewrites (fusion.py): the kernels' bits, and the passes.

``rotary_decode_attention`` must give exactly what ``rotary_embedding``
then ``decode_attention`` give (output and cache), and ``fused_add_rms_norm_``
what ``fused_add_rms_norm`` gives, since the passes swap one for the other
in every traced decode step. The passes are checked on small traced graphs:
what they rewrite, what they leave alone, and that a second run changes
nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch.fx import GraphModule, symbolic_trace

from vllm_stub.compilation.fusion import fuse_rotary_into_attention, norms_in_place

_LAYER = -2  # the kernels' cache table number these tests bind to
HEADS, KV_HEADS, DIM, CACHE_LEN = 4, 2, 16, 12
SLOTS, LENS, POSITIONS = [2, 0, 3], [6, 1, 12], [5, 0, 11]


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def _inputs(rotary_dim: int) -> dict[str, torch.Tensor]:
    """Query, key and value as split views of one projection, and the metadata."""
    qkv = torch.randn(len(SLOTS), (HEADS + 2 * KV_HEADS) * DIM)
    q, k, v = qkv.split([HEADS * DIM, KV_HEADS * DIM, KV_HEADS * DIM], -1)
    return {
        "positions": torch.tensor(POSITIONS),
        "q": q,
        "k": k,
        "v": v,
        "table": torch.randn(16, 2, rotary_dim),
        "slots": torch.tensor(SLOTS),
        "lens": torch.tensor(LENS),
    }


def _with_caches(run: Callable[[], torch.Tensor], caches: tuple) -> torch.Tensor:
    """``run()`` with ``caches`` bound to the test layer for the call only."""
    ops = torch.ops.vllm_stub_cpu
    ops.bind_kv_cache(_LAYER, *caches)
    try:
        return run()
    finally:
        ops.bind_kv_cache(_LAYER, None, None)


def _unfused(inputs: dict, neox: bool, window: int) -> torch.Tensor:
    ops = torch.ops.vllm_stub_cpu
    i = inputs
    q, k = ops.rotary_embedding(i["positions"], i["q"], i["k"], DIM, i["table"], neox)
    return ops.decode_attention(
        q, k, i["v"], _LAYER, i["slots"], i["lens"], 0.25, window
    )


def _fused(inputs: dict, neox: bool, window: int) -> torch.Tensor:
    i = inputs
    return torch.ops.vllm_stub_cpu.rotary_decode_attention(
        i["q"], i["k"], i["v"], _LAYER, i["slots"], i["lens"], 0.25, window,
        i["positions"], DIM, i["table"], neox,
    )  # fmt: skip


@pytest.mark.parametrize("neox", [True, False])
@pytest.mark.parametrize("rotary_dim", [DIM, DIM // 2])  # the whole head, part
@pytest.mark.parametrize("window", [0, 4])
def test_fused_op_gives_the_bits_of_rotary_then_attention(
    ops, neox: bool, rotary_dim: int, window: int
) -> None:
    inputs = _inputs(rotary_dim)
    shape = (4, KV_HEADS, CACHE_LEN, DIM)
    caches = (torch.randn(shape), torch.randn(shape))
    plain_caches = tuple(c.clone() for c in caches)
    expected = _with_caches(lambda: _unfused(inputs, neox, window), plain_caches)
    out = _with_caches(lambda: _fused(inputs, neox, window), caches)
    assert torch.equal(out, expected)
    for cache, plain in zip(caches, plain_caches, strict=True):
        assert torch.equal(cache, plain)  # the rotated key, the value, written


def test_fused_op_refuses_a_position_outside_the_table(ops) -> None:
    inputs = _inputs(DIM)
    inputs["positions"] = torch.tensor([5, 0, 16])
    shape = (4, KV_HEADS, CACHE_LEN, DIM)
    caches = (torch.zeros(shape), torch.zeros(shape))
    with pytest.raises(RuntimeError, match="position 16 is outside the table"):
        _with_caches(lambda: _fused(inputs, True, 0), caches)
    assert not caches[0].any()  # refused before anything was written


def _traced_step(rotate: bool = True, swap: bool = False, keep_key: bool = False):
    """A decode step's rotary and attention, traced as a model's step has them.

    ``swap`` hands the attention the rotated key as its query (not the pair
    the fused op computes); ``keep_key`` also returns the rotated key.
    """
    ops = torch.ops.vllm_stub_cpu

    def step(positions, q, k, v, table, slots, lens):
        if rotate:
            rotated = ops.rotary_embedding(positions, q, k, DIM, table, True)
            q, k = (rotated[1], rotated[0]) if swap else (rotated[0], rotated[1])
        out = ops.decode_attention(q, k, v, _LAYER, slots, lens, 0.25, 0)
        return (out, k) if keep_key else out

    return symbolic_trace(step)


def test_the_pass_fuses_a_rotary_read_only_by_its_attention(ops, run_rewrite) -> None:
    graph = _traced_step()
    unfused, calls = run_rewrite(graph, fuse_rotary_into_attention, 1)
    assert calls == ["vllm_stub_cpu.rotary_decode_attention"]
    inputs = _inputs(DIM)
    args = [inputs[name] for name in ("positions", "q", "k", "v", "table")]
    args += [inputs["slots"], inputs["lens"]]
    shape = (4, KV_HEADS, CACHE_LEN, DIM)
    caches = (torch.randn(shape), torch.randn(shape))
    before = tuple(c.clone() for c in caches)
    expected = _with_caches(lambda: unfused(*args), before)
    assert torch.equal(_with_caches(lambda: graph(*args), caches), expected)


@pytest.mark.parametrize(
    "variant", [{"keep_key": True}, {"swap": True}, {"rotate": False}]
)
def test_the_pass_leaves_other_graphs_alone(ops, run_rewrite, variant: dict) -> None:
    graph = _traced_step(**variant)
    before, _ = run_rewrite(graph, fuse_rotary_into_attention, 0)
    assert graph.code == before.code


@pytest.mark.parametrize("rows", [1, 8, 200])  # 200 rows: split over threads
def test_the_in_place_norm_gives_the_bits_of_the_norm(ops, rows: int) -> None:
    x, residual, weight = torch.randn(rows, 96), torch.randn(rows, 96), torch.randn(96)
    normed, total = ops.fused_add_rms_norm(x, residual, weight, 1e-5)
    ops.fused_add_rms_norm_(x, residual, weight, 1e-5)
    assert torch.equal(x, normed) and torch.equal(residual, total)


def _traced_norms(read_again: bool = False) -> GraphModule:
    """Three pre-norm sublayers' norms and GEMMs, traced as a model's step has them.

    The first norm's residual is a graph input; ``read_again`` also returns
    the second norm's input after the norm.
    """
    ops = torch.ops.vllm_stub_cpu

    def step(x, residual, weight, packed):
        first = ops.fused_add_rms_norm(x, residual, weight, 1e-5)
        hidden = ops.packed_gemm(first[0], packed, 16, None)
        second = ops.fused_add_rms_norm(hidden, first[1], weight, 1e-5)
        out = ops.packed_gemm(second[0], packed, 16, None)
        third = ops.fused_add_rms_norm(out, second[1], weight, 1e-5)
        return (third[0], third[1], hidden) if read_again else (third[0], third[1])

    return symbolic_trace(step)


@pytest.mark.parametrize(("read_again", "in_place"), [(False, 2), (True, 1)])
def test_norms_whose_inputs_nothing_reads_again_run_in_place(
    ops, run_rewrite, read_again: bool, in_place: int
) -> None:
    graph = _traced_norms(read_again)
    functional, calls = run_rewrite(graph, norms_in_place, in_place)
    assert calls.count("vllm_stub_cpu.fused_add_rms_norm_") == in_place
    assert calls.count("vllm_stub_cpu.fused_add_rms_norm") == 3 - in_place
    packed = torch.randn(16, 16)
    ops.pack_weight_(packed)
    args = (
        torch.randn(4, 16),
        torch.randn(4, 16),
        torch.randn(16),
        packed.view(1, 16, 16),
    )
    inputs = tuple(a.clone() for a in args)
    expected = functional(*args)
    for got, want in zip(graph(*inputs), expected, strict=True):
        assert torch.equal(got, want)
    for given, kept in zip(inputs, args, strict=True):
        assert torch.equal(given, kept)  # the graph's inputs are never written
