"""Each CPU fast path computes the plain expression its docstring names."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from vllm_stub.forward_context import AttentionMetadata
from vllm_stub.model_executor.layers import cpu_attention_paths, cpu_fast_paths
from vllm_stub.model_executor.layers.attention import Attention


@pytest.fixture(autouse=True)
def _seed(kernel_path: str) -> None:
    """Every test here runs on both paths (see ``kernel_path``)."""
    torch.manual_seed(0)


# The GEMM of unpacked weights (the packed one: test_packed_gemm.py): up to
# 32 rows with the weight on the left, then F.linear
@pytest.mark.parametrize("rows", [1, 3, 8, 13, 32, 33])
@pytest.mark.parametrize("shape", [(96, 64), (64, 96), (40, 100)])
@pytest.mark.parametrize("with_bias", [False, True])
def test_gemm_is_linear(rows: int, shape: tuple[int, int], with_bias: bool) -> None:
    weight = torch.randn(shape)
    bias = torch.randn(shape[0]) if with_bias else None
    x = torch.randn(rows, shape[1])
    # another kernel may sum in another order: equal up to rounding
    torch.testing.assert_close(
        cpu_fast_paths.gemm(x, weight, bias), F.linear(x, weight, bias)
    )


def test_gemm_of_a_transposed_weight_or_strided_rows_is_linear() -> None:
    weight = torch.randn(64, 48).t()  # not contiguous: MKL's path
    rows = torch.randn(4, 100)[:, 20:84]  # a slice of wider rows
    torch.testing.assert_close(
        cpu_fast_paths.gemm(rows, weight), F.linear(rows.contiguous(), weight)
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_rms_norm_is_transformers_formula(dtype: torch.dtype) -> None:
    x, weight = torch.randn(5, 32, dtype=dtype), torch.randn(32, dtype=dtype)
    hidden = x.float()
    hidden = hidden * torch.rsqrt(hidden.pow(2).mean(-1, keepdim=True) + 1e-6)
    expected = weight * hidden.to(dtype)
    torch.testing.assert_close(cpu_fast_paths.rms_norm(x, weight, 1e-6), expected)


def _plain_rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, neox: bool):
    rotary_dim = cos.shape[-1] * 2
    rot, rest = x[..., :rotary_dim], x[..., rotary_dim:]
    x1, x2 = rot.chunk(2, -1) if neox else (rot[..., ::2], rot[..., 1::2])
    out1, out2 = x1 * cos - x2 * sin, x2 * cos + x1 * sin
    if neox:
        rotated = torch.cat((out1, out2), -1)
    else:
        rotated = torch.stack((out1, out2), -1).flatten(-2)
    return torch.cat((rotated, rest), -1)


@pytest.mark.parametrize("neox", [True, False])
@pytest.mark.parametrize("rotary_dim", [16, 8])
def test_rotate_is_the_pairwise_rotation(neox: bool, rotary_dim: int) -> None:
    head_size, num_tokens = 16, 5
    freqs = torch.randn(num_tokens + 3, rotary_dim // 2)
    table = cpu_fast_paths.rotary_cos_sin_cache(freqs, 1.0, neox)
    positions = torch.tensor([7, 0, 3, 3, 1])
    query = torch.randn(num_tokens, 4 * head_size)
    key = torch.randn(num_tokens, 2 * head_size)
    q, k = cpu_fast_paths.rotate(table, positions, query, key, head_size, neox)
    cos, sin = freqs[positions].cos()[:, None], freqs[positions].sin()[:, None]
    for actual, x in ((q, query), (k, key)):
        heads = x.view(num_tokens, -1, head_size)
        expected = _plain_rotate(heads, cos, sin, neox).reshape(x.shape)
        assert torch.equal(actual, expected)


@pytest.mark.parametrize(
    ("slot_ids", "first"),
    [([0], 0), ([2, 3, 4], 2), ([0, 2], None), ([1, 0], None), ([3, 3], None)],
)
def test_first_slot_if_consecutive(slot_ids: list[int], first: int | None) -> None:
    assert cpu_attention_paths.first_slot_if_consecutive(slot_ids) == first


DECODE_CASES = {
    "consecutive, same length": ([1, 2], [4, 4]),
    "consecutive, ragged": ([1, 2], [4, 2]),
    "scattered, same length": ([3, 0], [4, 4]),
    "scattered, ragged": ([3, 0], [3, 5]),
}


def _decode_meta(slot_ids: list[int], lens: list[int]) -> AttentionMetadata:
    context_lens = torch.tensor(lens)
    mask = None
    if len(set(lens)) > 1:
        mask = (torch.arange(max(lens)) < context_lens[:, None])[:, None, None, :]
    return AttentionMetadata(
        False,
        torch.tensor(slot_ids),
        context_lens=context_lens,
        max_context_len=max(lens),
        attn_mask=mask,
        first_slot=cpu_attention_paths.first_slot_if_consecutive(slot_ids),
    )


@pytest.mark.parametrize("case", sorted(DECODE_CASES))
def test_decode_cache_writes_and_reads_index_the_slots(case: str) -> None:
    meta = _decode_meta(*DECODE_CASES[case])
    cache = torch.randn(4, 2, 6, 3)
    new = torch.randn(len(meta.slots), 2, 3)
    expected = cache.clone()
    expected[meta.slots, :, meta.context_lens - 1] = new
    cpu_attention_paths.write_decode_kv(cache, new, meta)
    assert torch.equal(cache, expected)
    running = expected[meta.slots, :, : meta.max_context_len]
    assert torch.equal(cpu_attention_paths.running_kv(cache, meta), running)


@pytest.mark.parametrize(
    ("lens", "slots", "batched"),
    [
        ([4, 4, 4], [2, 3, 4], True),
        ([4, 4, 3], [0, 1, 2], False),  # mixed lengths: per prompt
        ([4, 4], [0, 2], False),  # slots not consecutive: per prompt
        ([5], [0], False),  # one prompt: nothing to batch
    ],
)
def test_equal_length_prefill_is_the_per_prompt_attention(lens, slots, batched):
    torch.manual_seed(0)
    heads, kv_heads, dim, tokens = 4, 2, 8, sum(lens)
    starts = [0]
    for length in lens:
        starts.append(starts[-1] + length)
    meta = AttentionMetadata(
        True,
        torch.tensor(slots),
        query_start_loc=starts,
        first_slot=cpu_attention_paths.first_slot_if_consecutive(slots),
    )
    q = torch.randn(heads, tokens, dim)
    k, v = torch.randn(kv_heads, tokens, dim), torch.randn(kv_heads, tokens, dim)
    assert (
        cpu_attention_paths.equal_length_batch(q, k, v, meta) is not None
    ) == batched

    layer = Attention(heads, dim, dim**-0.5, kv_heads)
    cache = torch.zeros(max(slots) + 1, kv_heads, max(lens), dim)
    layer.kv_cache = (cache.clone(), cache.clone())
    out = layer._prefill(q, k, v, meta)
    for i, slot in enumerate(slots):
        a, b = starts[i], starts[i + 1]
        expected = F.scaled_dot_product_attention(
            q[:, a:b],
            k[:, a:b],
            v[:, a:b],
            is_causal=True,
            enable_gqa=True,
            scale=dim**-0.5,
        )
        torch.testing.assert_close(out[:, a:b], expected)
        torch.testing.assert_close(layer.kv_cache[0][slot, :, : b - a], k[:, a:b])
        torch.testing.assert_close(layer.kv_cache[1][slot, :, : b - a], v[:, a:b])
