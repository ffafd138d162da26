"""The kernels built for AVX-512 compute AVX2's build's bits.

``_custom_ops._vector_flags`` builds for the ISA PyTorch uses, so two
machines, or one with ``ATEN_CPU_CAPABILITY`` set, run different builds of
the same source; greedy tokens must not depend on which. Each build runs in
a process of its own (both register ``torch.ops.vllm_stub_cpu``) on the same
seeded inputs, and every kernel's outputs are compared bit for bit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

# Every kernel, on shapes that take its vector loops and its remainders.
_RUN_KERNELS = """
import sys, torch
from vllm_stub import _custom_ops
kernels = _custom_ops.kernels()
assert kernels is not None
torch.manual_seed(0)
x, residual, norm_weight = torch.randn(13, 100), torch.randn(13, 100), torch.randn(100)
weight = torch.randn(48, 300)
kernels.pack_weight_(weight)
cache_shape = (4, 2, 40, 64)
kernels.bind_kv_cache(0, torch.randn(cache_shape), torch.randn(cache_shape))
query, key, value = torch.randn(3, 256), torch.randn(3, 128), torch.randn(3, 128)
outputs = {
    "norm": kernels.rms_norm(x, norm_weight, 1e-5),
    "add_norm": torch.cat(kernels.fused_add_rms_norm(x, residual, norm_weight, 1e-5)),
    "add_norm_in_place": (lambda a, b: (
        kernels.fused_add_rms_norm_(a, b, norm_weight, 1e-5), torch.cat([a, b]))[1])(
        x.clone(), residual.clone()),
    "silu": kernels.silu_and_mul(torch.randn(13, 2 * 333) * 10),
    "rotary": torch.cat([rotated.flatten() for rotated in kernels.rotary_embedding(
        torch.tensor([0, 7, 31]), torch.randn(3, 256), torch.randn(3, 128), 64,
        torch.randn(32, 2, 64), True)]),
    "gemm_silu": torch.cat([kernels.packed_gemm_silu_and_mul(
        torch.randn(rows, 300), weight.view(3, 300, 16)[:2].contiguous(), 32, None)
        for rows in (2, 8)]),
    "gemm": torch.cat([
        kernels.packed_gemm(torch.randn(rows, 300), weight.view(3, 300, 16), 48, None)
        for rows in (1, 8, 32)]),
    "attention": kernels.decode_attention(
        query, key, value, 0, torch.tensor([2, 0, 3]),
        torch.tensor([40, 9, 17]), 0.125, 0),
    "rotary_attention": kernels.rotary_decode_attention(
        query, key, value, 0, torch.tensor([2, 0, 3]),
        torch.tensor([40, 9, 17]), 0.125, 0, torch.tensor([3, 0, 31]), 64,
        torch.randn(32, 2, 64), True),
    "argmax": kernels.argmax_rows(torch.randn(5, 1003)),
}
torch.save({"build": _custom_ops._vector_flags()[0], **outputs}, sys.argv[1])
"""


def _outputs(isa: str, folder: Path) -> dict[str, torch.Tensor]:
    """The kernels' outputs, built for ``isa`` as PyTorch names it."""
    path = folder / f"{isa}.pt"
    env = {**os.environ, "ATEN_CPU_CAPABILITY": isa, "VLLM_STUB_CPU_KERNELS": "1"}
    result = subprocess.run(
        [sys.executable, "-c", _RUN_KERNELS, str(path)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return torch.load(path)


@pytest.mark.slow
@pytest.mark.skipif(
    torch.backends.cpu.get_cpu_capability() != "AVX512",
    reason="needs a CPU with AVX-512",
)
def test_avx512_build_computes_the_avx2_builds_bits(tmp_path: Path) -> None:
    avx2, avx512 = _outputs("avx2", tmp_path), _outputs("avx512", tmp_path)
    assert (avx2.pop("build"), avx512.pop("build")) == ("_avx2", "_avx512")
    for name, expected in avx2.items():
        assert torch.equal(avx512[name], expected), name
