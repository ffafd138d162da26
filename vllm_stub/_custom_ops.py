"""The fused CPU kernels of ``csrc/cpu/``, built on first use.

As vLLM's ``_custom_ops`` wraps its compiled ``_C`` kernels, this module
gives the layers one name per fused kernel. The kernels are compiled with
``torch.utils.cpp_extension`` the first time a float32 decode needs them
(about 25 s on 2 cores; torch caches the build, keyed by the source, for later
processes). When they cannot be built (no C++ compiler or ninja) or
``VLLM_STUB_CPU_KERNELS=0`` is set, :func:`kernels` returns ``None`` and
``cpu_fast_paths`` and ``cpu_attention_paths`` run the PyTorch forms instead:
slower, same tokens.

Each kernel also gets a fake form (:func:`_register_fakes`): the shape and
dtype of its outputs, which is all that torch.compile needs to trace a
decode step through them (``compilation/decode_graph.py``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from vllm_stub.logger import first_line, init_logger

logger = init_logger(__name__)

_SOURCES = [
    Path(__file__).parent / "csrc" / "cpu" / name
    for name in ("ops.cpp", "gemm.cpp", "attention.cpp", "kv_cache_table.cpp")
]
# No implicit fused multiply-add (the GEMM's are explicit): the layer kernels
# round like the PyTorch ops they replace.
# No errno and no FP traps (as PyTorch builds): lets loops with exp vectorize.
# OpenMP: ATen's parallel_for is inline and needs it to use more than one thread.
_FLAGS = [
    "-O3",
    "-ffp-contract=off",
    "-fno-math-errno",
    "-fno-trapping-math",
    "-fopenmp",
]


def _vector_flags() -> tuple[str, list[str]]:
    """The build's name suffix and ISA flags: the vector ISA this CPU has.

    PyTorch reports what its own kernels use here; the name keeps builds for
    different ISAs apart in torch's extension cache. The kernels' intrinsics
    are AVX2 and FMA; AVX-512 lets the compiler vectorize their plain loops
    16 wide (SiLU's exp: 0.80 -> 0.48 ns an output on one core), with the
    same operations per element, so the same bits.
    """
    capability = torch.backends.cpu.get_cpu_capability()
    avx2 = ["-mavx2", "-mfma"]
    if capability == "AVX512":
        return "_avx512", [*avx2, "-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq"]
    if capability == "AVX2":
        return "_avx2", avx2
    return "", []


# kernels()'s answer once known. A dict, not functools.cache: torch.compile
# traces through kernels() and would ignore that cache and trace the build.
_DECIDED: dict[str, Any] = {}


def kernels() -> Any:
    """``torch.ops.vllm_stub_cpu`` once built, or ``None`` (see module docstring)."""
    if "kernels" not in _DECIDED:
        _DECIDED["kernels"] = _build()
    return _DECIDED["kernels"]


def forget_kernels() -> None:
    """Make the next :func:`kernels` call decide again (tests switch them off)."""
    _DECIDED.clear()


def _build() -> Any:
    """Build the kernels (or find them in torch's cache) and register them."""
    if os.environ.get("VLLM_STUB_CPU_KERNELS", "1") == "0":
        return None
    try:
        from torch.utils.cpp_extension import load

        suffix, isa = _vector_flags()
        load(
            name=f"vllm_stub_cpu{suffix}",
            sources=[str(source) for source in _SOURCES],
            extra_cflags=_FLAGS + isa,
            is_python_module=False,
        )
    except Exception as error:  # no compiler, no ninja, a failed build
        logger.warning(
            "vllm_stub: CPU kernels unavailable (%s); using PyTorch ops",
            first_line(error),
        )
        return None
    _register_fakes()
    return torch.ops.vllm_stub_cpu


def _register_fakes() -> None:
    """Give each kernel its fake form: outputs' shapes and dtypes, no values."""
    for name, outputs_like in _FAKES.items():
        torch.library.register_fake(f"vllm_stub_cpu::{name}", outputs_like)


_FAKES: dict[str, Any] = {
    "packed_gemm": lambda x, packed, outputs, bias: x.new_empty(x.shape[0], outputs),
    "rms_norm": lambda x, weight, eps: torch.empty_like(x),
    "fused_add_rms_norm": lambda x, residual, weight, eps: (
        torch.empty_like(x),
        torch.empty_like(x),
    ),
    "silu_and_mul": lambda x: x.new_empty(x.shape[0], x.shape[1] // 2),
    "rotary_embedding": lambda positions, query, key, head_size, cos_sin, neox: (
        query.new_empty(query.shape),
        key.new_empty(key.shape),
    ),
    "decode_attention": lambda query, *_layer_and_metadata: query.new_empty(
        query.shape
    ),
    "argmax_rows": lambda x: x.new_empty(x.shape[0], dtype=torch.int64),
}
