"""The engine's CPU-only speed tricks for its dense layers (attention's are in
``cpu_attention_paths``).

vllm_stub runs on CPU with a few threads, where a step's time goes to small
ops and their thread-pool round trips more than to arithmetic. Each function
here computes the plain expression in its docstring: the same values, except
that a different GEMM kernel may sum in another order and so round the last
bit differently. The comment on each says what it buys and why it is
correct. Layers call these instead of writing the plain form.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vllm_stub import _custom_ops

# Up to this many rows (decode batches) the weight-on-the-left GEMM pays off.
_FEW_ROWS = 32
# Output features per panel of the packed layout (``kPanel`` of gemm.cpp).
_PANEL = 16


def gemm(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None
) -> torch.Tensor:
    """``F.linear(x, weight, bias)``, as ``(weight @ x.T).T`` for a few rows.

    The GEMM of a weight ``pack_weight_`` did not pack (the kernels did not
    build, the weight is not float32, or the layer was filled by hand).
    Buys decode speed: with a few float32 rows the GEMM is bound by reading
    the weight from memory, and MKL streams it as stored for ``weight @ x.T``
    instead of repacking it on every call as it does for ``x @ weight.T``.
    Measured on SmolLM2-135M's shape, one thread, in the model: 224 ms per
    decode step at batch 32 (270 with ``F.linear`` everywhere), and 1.7x on
    the LM head alone at 8 and 32 rows with 2 threads. Correct because
    ``(W x^T)^T = x W^T`` (the bias is added per output row, as a column).
    The product is written through the transposed view of a ``[rows, out]``
    buffer, so the result is contiguous like ``F.linear``'s without a copy.
    """
    if x.dim() != 2 or x.shape[0] > _FEW_ROWS or x.dtype != torch.float32:
        return F.linear(x, weight, bias)
    out = torch.empty(x.shape[0], weight.shape[0], dtype=x.dtype)
    if bias is None:
        torch.mm(weight, x.t(), out=out.t())
    else:
        torch.addmm(bias.unsqueeze(1), weight, x.t(), out=out.t())
    return out


def pack_weight_(weight: torch.Tensor) -> torch.Tensor | None:
    """``weight`` laid out for the C++ GEMM kernel, in its own storage; or ``None``.

    Buys the largest share of a float32 CPU step. The kernel multiplies
    blocks of 6 rows by panels of 16 packed weight columns in registers,
    which streams the weights at the memory's pace for a few rows and
    computes near the cores' peak for many, where MKL repacks the weight on
    every call and is slow for a few rows. One forward's GEMMs on
    SmolLM2-135M's shape, 2 threads (``benchmarks/gemm.py``): 18 / 20 / 45 /
    1392 ms at 1 / 8 / 32 / 1024 rows, against MKL's 53 / 65 / 102 / 1596.
    vLLM's CPU backend packs its weights after loading too (for oneDNN, in
    ``dispatch_cpu_unquantized_gemm``).

    In place, so packing never holds the model twice: afterwards ``weight``
    holds the packed layout and must not be read as a matrix. (A weight
    whose rows do not fill whole panels is padded into a copy, which is
    packed instead.) ``None``, with ``weight`` untouched, where the kernels
    did not build or it is not a float32 matrix: those keep ``gemm``.
    """
    if weight.dim() != 2 or weight.is_meta or weight.dtype != torch.float32:
        return None
    kernels = _custom_ops.kernels()
    if kernels is None:
        return None
    packed = weight.detach()
    if packed.shape[0] % _PANEL:
        packed = F.pad(packed, (0, 0, 0, -packed.shape[0] % _PANEL))
    packed = packed.contiguous()
    kernels.pack_weight_(packed)
    # detached: a view would keep its base, and with it this memory, alive
    # after the weight moves to huge pages (model_loader/huge_pages.py)
    return packed.view(-1, packed.shape[1], _PANEL).detach()


def packed_gemm(
    x: torch.Tensor,
    packed: torch.Tensor,
    outputs: int,
    bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """``F.linear(x, weight, bias)`` for ``packed = pack_weight_(weight)``.

    ``outputs`` is ``weight.shape[0]``. Leading dimensions of ``x`` are kept.
    The op is called as such, not through ``_custom_ops.kernels()``: a packed
    weight has no plain copy left, so it takes the kernel even if they are
    switched off after loading.
    """
    if x.dim() == 2 and x.stride(1) == 1:  # the engine's rows: no reshaping
        return torch.ops.vllm_stub_cpu.packed_gemm(x, packed, outputs, bias)
    rows = x.reshape(-1, x.shape[-1])
    if rows.stride(1) != 1:  # the kernel reads each row as one run
        rows = rows.contiguous()
    out = torch.ops.vllm_stub_cpu.packed_gemm(rows, packed, outputs, bias)
    return out.view(*x.shape[:-1], outputs)


def packed_rows(packed: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """``weight[ids]`` read from ``packed = pack_weight_(weight)``.

    Buys memory: a tied embedding looks its tokens up in the LM head's packed
    copy instead of keeping a plain one (113 MB for SmolLM2-135M). Correct
    because packing only moves values: weight row ``n`` is column ``n % 16``
    of panel ``n // 16``.
    """
    panel = packed.shape[2]
    return packed[ids // panel, :, ids % panel]


def kernels_for(*tensors: torch.Tensor) -> object | None:
    """The fused kernels if they built and take these tensors, else ``None``.

    They take float32 rows (2-D, unit column stride); see ``_custom_ops``.
    A plain loop, not ``any()`` over a generator: this runs before every
    fused op, 150 times a decode step, and the generators cost 2-3 us each.
    """
    for t in tensors:
        if t.dtype != torch.float32 or t.dim() != 2 or t.stride(1) != 1:
            return None
    return _custom_ops.kernels()


def argmax_rows(logits: torch.Tensor) -> torch.Tensor:
    """``logits.argmax(dim=-1)`` of ``[rows, vocab]`` logits: greedy's tokens.

    Buys 1.5 ms of a 100 ms decode step at batch 32: torch's argmax reads
    a 49152-token row one value at a time, the kernel 8 at a time. Correct
    because it returns what torch's does, ties and NaNs included: the first
    maximum, or the first NaN.
    """
    kernels = kernels_for(logits)
    if kernels is None or logits.shape[-1] == 0:
        return logits.argmax(dim=-1)
    return kernels.argmax_rows(logits)


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """``weight * (x.float() * rsqrt(mean(x.float()**2) + eps)).to(x.dtype)``.

    Buys one fused kernel instead of five ops per norm for float32 input.
    Correct because for float32 the casts are no-ops, which leaves the formula
    ``F.rms_norm`` computes; other dtypes keep transformers' order of casts
    (statistics in float32, cast back before the weight), which the fused
    kernel does not follow. The C++ kernel, when built, does all of it in one
    call (the mean summed in double).
    """
    kernels = kernels_for(x)
    if kernels is not None:
        return kernels.rms_norm(x, weight, eps)
    if x.dtype == torch.float32:
        return F.rms_norm(x, weight.shape, weight, eps)
    hidden = x.float()
    variance = hidden.pow(2).mean(dim=-1, keepdim=True)
    hidden = hidden * torch.rsqrt(variance + eps)
    return weight * hidden.to(x.dtype)


def fused_add_rms_norm(
    x: torch.Tensor, residual: torch.Tensor, weight: torch.Tensor, eps: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(rms_norm(x + residual), x + residual)``: a pre-norm layer's residual step.

    Buys one kernel call (when built) instead of an add and a norm, each
    several ops; the sum is formed once and normalised as ``rms_norm`` does.
    """
    kernels = kernels_for(x, residual)
    if kernels is not None:
        return kernels.fused_add_rms_norm(x, residual, weight, eps)
    total = x + residual
    return rms_norm(total, weight, eps), total


def silu_and_mul(x: torch.Tensor) -> torch.Tensor:
    """``F.silu(x[..., :d]) * x[..., d:]`` with ``d`` half the last dimension.

    Buys one kernel call (when built) instead of a slice, a SiLU and a
    product, each a pass over memory; the kernel evaluates ``silu`` as
    ``g / (1 + exp(-g))``, the formula PyTorch's SiLU uses.
    """
    kernels = kernels_for(x)
    if kernels is not None:
        return kernels.silu_and_mul(x)
    d = x.shape[-1] // 2
    return F.silu(x[..., :d]) * x[..., d:]


def rotary_cos_sin_cache(
    freqs: torch.Tensor, attention_factor: float, is_neox_style: bool
) -> torch.Tensor:
    """``[max_pos, 2, rotary_dim]``: cos and signed sin laid out for ``rotate``.

    Laid out once at build time so that rotating needs no split or concat per
    call: cos is repeated over both members of each rotated pair, and sin
    carries the sign of its term (``-sin`` for the first member).
    """
    cos, sin = freqs.cos() * attention_factor, freqs.sin() * attention_factor
    if is_neox_style:
        cos, sin = torch.cat((cos, cos), -1), torch.cat((-sin, sin), -1)
    else:
        cos = cos.repeat_interleave(2, -1)
        sin = torch.stack((-sin, sin), -1).flatten(-2)
    return torch.stack((cos, sin), 1)


def _swap_pairs(x: torch.Tensor, is_neox_style: bool) -> torch.Tensor:
    """Each rotated pair's members exchanged: halves (neox) or neighbours."""
    if is_neox_style:
        return x.roll(x.shape[-1] // 2, -1)
    return x.unflatten(-1, (-1, 2)).flip(-1).flatten(-2)


def rotate(
    cache: torch.Tensor,
    positions: torch.Tensor,
    query: torch.Tensor,
    key: torch.Tensor,
    head_size: int,
    is_neox_style: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotary embedding of ``query`` and ``key`` (``[num_tokens, heads * dim]``).

    The plain form rotates each of query and key as ``(x1 * cos - x2 * sin,
    x2 * cos + x1 * sin)`` over the pairs ``(x1, x2)``, split and joined
    again. Buys a handful of small ops per layer instead of a dozen per
    tensor: query and key heads are rotated in one pass, as ``x * cos +
    swap(x) * sin`` with the sign inside ``sin`` (see ``rotary_cos_sin_cache``).
    Correct because every op is elementwise per head, so concatenating heads
    changes no value, and ``swap(x) * sin`` yields ``-x2 * sin`` in the first
    member and ``x1 * sin`` in the second. ``cache`` is the float32 table of
    ``rotary_cos_sin_cache``; each token's row is cast to the input dtype.
    The C++ kernel, when built, does the same per head in one call.
    """
    kernels = kernels_for(query, key)
    if kernels is not None and (positions.dtype, cache.dtype) == (
        torch.int64,
        torch.float32,
    ):
        if not positions.is_contiguous():  # asked first: see LinearBase.forward
            positions = positions.contiguous()
        return kernels.rotary_embedding(
            positions, query, key, head_size, cache, is_neox_style
        )
    cos_sin = cache[positions].to(query.dtype)
    num_tokens = query.shape[0]
    cos, sin = cos_sin.unsqueeze(1).unbind(2)
    rotary_dim = cos.shape[-1]
    q = query.view(num_tokens, -1, head_size)
    qk = torch.cat((q, key.view(num_tokens, -1, head_size)), 1)
    rot = qk[..., :rotary_dim]
    rotated = rot * cos + _swap_pairs(rot, is_neox_style) * sin
    if rotary_dim < head_size:
        rotated = torch.cat((rotated, qk[..., rotary_dim:]), -1)
    q_out, k_out = rotated.split([q.shape[1], rotated.shape[1] - q.shape[1]], 1)
    return q_out.reshape(query.shape), k_out.reshape(key.shape)
