"""The fused decode kernels compute their PyTorch formulas, on both paths.

Each test runs once with the C++ kernels of ``vllm_stub/csrc/cpu`` and once
with ``VLLM_STUB_CPU_KERNELS=0`` (the ``kernel_path`` fixture), against the
plain expression written here with PyTorch ops.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from vllm_stub import _custom_ops
from vllm_stub.forward_context import AttentionMetadata
from vllm_stub.model_executor.layers import cpu_attention_paths, cpu_fast_paths
from vllm_stub.model_executor.layers.attention import Attention


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.mark.parametrize("rows", [1, 8, 200])  # 200 rows: split over threads
def test_fused_add_rms_norm_is_add_then_norm(rows: int, kernel_path: str) -> None:
    x, residual, weight = torch.randn(rows, 96), torch.randn(rows, 96), torch.randn(96)
    out, total = cpu_fast_paths.fused_add_rms_norm(x, residual, weight, 1e-5)
    expected_total = x + residual
    assert torch.equal(total, expected_total)
    variance = expected_total.pow(2).mean(-1, keepdim=True)
    expected = weight * (expected_total * torch.rsqrt(variance + 1e-5))
    torch.testing.assert_close(out, expected)


def test_norm_of_strided_rows_reads_each_row(kernel_path: str) -> None:
    # a slice of a wider row, as a split of a fused projection gives
    wide = torch.randn(4, 100)
    x, weight = wide[:, 10:74], torch.randn(64)
    expected = F.rms_norm(x.contiguous(), (64,), weight, 1e-6)
    torch.testing.assert_close(cpu_fast_paths.rms_norm(x, weight, 1e-6), expected)


@pytest.mark.parametrize("rows", [1, 8, 64])
def test_silu_and_mul_is_the_gated_product(rows: int, kernel_path: str) -> None:
    # wide range: exp under- and overflows at both ends must not turn into nan
    x = torch.randn(rows, 2 * 200) * 40
    expected = F.silu(x[:, :200]) * x[:, 200:]
    actual = cpu_fast_paths.silu_and_mul(x)
    assert not actual.isnan().any()
    torch.testing.assert_close(actual, expected)


def test_silu_and_mul_of_a_transposed_view_takes_the_plain_path(
    kernel_path: str,
) -> None:
    x = torch.randn(2 * 16, 3).t()  # no unit column stride: not for the kernel
    torch.testing.assert_close(
        cpu_fast_paths.silu_and_mul(x), F.silu(x[:, :16]) * x[:, 16:]
    )


ATTENTION_CASES = {
    # name: (slots, context lengths, heads, kv heads, sliding window)
    "one sequence": ([0], [5], 4, 4, None),
    "consecutive, equal, grouped": ([1, 2, 3], [6, 6, 6], 6, 2, None),
    "scattered, ragged": ([3, 0], [2, 7], 4, 2, None),
    "window shorter than context": ([0, 1], [7, 3], 4, 1, 4),
    "first token": ([2], [1], 2, 2, None),
}


def _reference_attention(q, caches, slots, lens, kv_heads, window, scale):
    """SDPA per sequence over its own cached context (and window)."""
    outputs = []
    for i, (slot, length) in enumerate(zip(slots, lens, strict=True)):
        start = 0 if window is None else max(0, length - window)
        keys, values = (c[slot, :, start:length] for c in caches)
        query = q[i].view(-1, 1, keys.shape[-1])
        out = F.scaled_dot_product_attention(
            query, keys, values, scale=scale, enable_gqa=True
        )
        outputs.append(out.flatten())
    return torch.stack(outputs)


_TEST_LAYER = -1  # the kernels' cache table number these tests bind to


def _bound_decode_attention(q, k, v, caches, meta, scale, window):
    """``decode_attention`` over ``caches``, bound for the call only."""
    bound = cpu_attention_paths.bind_kv_cache(_TEST_LAYER, caches, bound=False)
    try:
        return cpu_attention_paths.decode_attention(
            q, k, v, _TEST_LAYER, meta, scale, window
        )
    finally:
        cpu_attention_paths.bind_kv_cache(_TEST_LAYER, None, bound)


def _check_decode_attention(
    slots, lens, heads, kv_heads, window, dim, kernel_path, cache_len=8
) -> None:
    """The kernel writes each new token and attends as SDPA over its context."""
    batch, scale = len(slots), 0.25
    cache_shape = (4, kv_heads, cache_len, dim)
    caches = (torch.randn(cache_shape), torch.randn(cache_shape))
    before = tuple(c.clone() for c in caches)
    # key and value as the split views of one fused projection
    qkv = torch.randn(batch, (heads + 2 * kv_heads) * dim)
    q, k, v = qkv.split([heads * dim, kv_heads * dim, kv_heads * dim], -1)
    meta = AttentionMetadata(
        False,
        torch.tensor(slots),
        context_lens=torch.tensor(lens),
        max_context_len=max(lens),
    )
    out = _bound_decode_attention(q, k, v, caches, meta, scale, window)
    if kernel_path == "pytorch":
        assert out is None  # the layer's SDPA path runs instead
        return
    for cache, old, new in zip(caches, before, (k, v), strict=True):
        expected = old.clone()
        expected[slots, :, torch.tensor(lens) - 1] = new.view(batch, kv_heads, dim)
        assert torch.equal(cache, expected)
    expected = _reference_attention(q, caches, slots, lens, kv_heads, window, scale)
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize("case", sorted(ATTENTION_CASES))
def test_decode_attention_writes_the_token_and_attends_its_context(
    case: str, kernel_path: str
) -> None:
    _check_decode_attention(*ATTENTION_CASES[case], dim=16, kernel_path=kernel_path)


# head sizes of whole 64-float blocks, of 8-float blocks and of neither, which
# the kernel's vector forms and its plain loops each take
@pytest.mark.parametrize("dim", [64, 128, 40, 12])
def test_decode_attention_over_long_contexts(dim: int, kernel_path: str) -> None:
    # the kernel scores 8 positions at a time: lengths on and off a multiple
    # of 8, and a window that starts mid-way
    for window in (None, 13):
        _check_decode_attention(
            [3, 0, 1], [40, 21, 9], 6, 2, window, dim, kernel_path, cache_len=48
        )


def test_decode_attention_refuses_a_length_outside_the_cache(kernel_path) -> None:
    if kernel_path == "pytorch":
        pytest.skip("the PyTorch path indexes the cache and raises there")
    caches = (torch.zeros(1, 1, 4, 8), torch.zeros(1, 1, 4, 8))
    meta = AttentionMetadata(
        False, torch.tensor([0]), context_lens=torch.tensor([5]), max_context_len=5
    )
    row = torch.zeros(1, 8)
    with pytest.raises(RuntimeError, match="outside the cache"):
        _bound_decode_attention(row, row, row, caches, meta, 1.0, None)


def test_a_layer_binds_its_cache_until_freed_or_collected(kernel_path) -> None:
    layer = Attention(num_heads=2, head_size=8, scale=1.0, num_kv_heads=1)
    caches = (torch.zeros(1, 1, 4, 8), torch.zeros(1, 1, 4, 8))
    meta = AttentionMetadata(
        False, torch.tensor([0]), context_lens=torch.tensor([2]), max_context_len=2
    )
    q, k, v = torch.randn(1, 16), torch.randn(1, 8), torch.randn(1, 8)
    layer_id = layer.kernel_cache_id

    def attend() -> torch.Tensor | None:
        return cpu_attention_paths.decode_attention(q, k, v, layer_id, meta, 1.0, None)

    layer.kv_cache = caches
    if kernel_path == "pytorch":
        assert attend() is None  # nothing bound, nothing fused
        return
    out = attend()
    # the kernel wrote into the bound tensors themselves
    assert torch.equal(caches[0][0, 0, 1], k[0])
    assert torch.equal(caches[1][0, 0, 1], v[0])
    expected = _reference_attention(q, caches, [0], [2], 1, None, 1.0)
    torch.testing.assert_close(out, expected)
    layer.kv_cache = None
    with pytest.raises(RuntimeError, match=f"layer {layer_id} has no K/V cache bound"):
        attend()
    layer.kv_cache = caches
    attend()
    del layer
    gc.collect()
    with pytest.raises(RuntimeError, match="no K/V cache bound"):
        attend()


def test_a_layer_unbinds_its_cache_after_the_kernels_are_switched_off(
    kernel_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if kernel_path == "pytorch":
        pytest.skip("binds under the kernels first")
    layer = Attention(num_heads=1, head_size=8, scale=1.0)
    layer.kv_cache = (torch.zeros(1, 1, 4, 8), torch.zeros(1, 1, 4, 8))
    monkeypatch.setenv("VLLM_STUB_CPU_KERNELS", "0")
    _custom_ops.forget_kernels()
    layer.kv_cache = None
    row = torch.zeros(1, 8)
    with pytest.raises(RuntimeError, match="no K/V cache bound"):
        torch.ops.vllm_stub_cpu.decode_attention(
            row,
            row,
            row,
            layer.kernel_cache_id,
            torch.tensor([0]),
            torch.tensor([1]),
            1.0,
            0,
        )


def test_without_a_compiler_the_engine_falls_back_with_a_warning(tmp_path) -> None:
    # A real failed build, in its own process and extension folder, so that
    # this process's loaded kernels and torch's build cache stay untouched.
    script = (
        "import torch\n"
        "from vllm_stub import _custom_ops\n"
        "from vllm_stub.model_executor.layers import cpu_fast_paths\n"
        "assert _custom_ops.kernels() is None\n"
        "x = torch.randn(3, 8)\n"
        "expected = torch.nn.functional.silu(x[:, :4]) * x[:, 4:]\n"
        "assert torch.equal(cpu_fast_paths.silu_and_mul(x), expected)\n"
    )
    env = {
        **os.environ,
        "CXX": str(tmp_path / "no-compiler"),
        "TORCH_EXTENSIONS_DIR": str(tmp_path / "build"),
        "VLLM_STUB_CPU_KERNELS": "1",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "unavailable" in line]
    assert len(warnings) == 1, result.stderr


NAN, INF = float("nan"), float("inf")
ARGMAX_ROWS = {
    # name: a row; the kernel reads 8 values at a time, then the rest one by one
    "ties: the first maximum": [2.0, 5.0, 5.0, -0.0],
    "signed zeros tie": [-0.0, 0.0, -1.0, -2.0],
    "all -inf": [-INF] * 11,
    "+inf twice": [INF, 1.0, INF, 2.0],
    "NaN wins, the first one": [1.0, NAN, 3.0, NAN],
    "NaN in the first 8": [9.0] * 3 + [NAN] + [1.0] * 20,
    "NaN in the tail": [1.0] * 16 + [2.0, NAN],
    "maximum in the tail": [1.0] * 16 + [0.0, 3.0, 3.0],
    "maximum in two vectors": [0.0] * 5 + [4.0] + [0.0] * 7 + [4.0] + [0.0] * 3,
    "one value": [-3.0],
}


@pytest.mark.parametrize("name", sorted(ARGMAX_ROWS))
def test_argmax_rows_is_torch_argmax(name: str, kernel_path: str) -> None:
    row = torch.tensor(ARGMAX_ROWS[name])
    logits = torch.stack([row, row.flip(0)])
    assert torch.equal(cpu_fast_paths.argmax_rows(logits), logits.argmax(dim=-1))


def test_argmax_rows_of_vocabulary_wide_logits(kernel_path: str) -> None:
    # a vocabulary that is no multiple of 8, with rounded values (many ties)
    # and rows of a wider tensor (a row stride that is not the row's length)
    logits = (torch.randn(33, 49160) * 4).round()[:, :49155]
    expected = logits.argmax(dim=-1)
    assert torch.equal(cpu_fast_paths.argmax_rows(logits), expected)
