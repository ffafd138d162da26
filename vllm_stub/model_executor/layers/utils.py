"""The GEMM behind every linear layer and the LM head (vLLM's layers/utils)."""

from __future__ import annotations

import torch

from vllm_stub.model_executor.layers import cpu_fast_paths


def unquantized_gemm(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None
) -> torch.Tensor:
    """``F.linear(x, weight, bias)`` as CPU runs it fastest.

    vLLM dispatches this per platform; CPU is the only one here, so it is
    ``cpu_fast_paths.gemm``, whose result may be a transposed view.
    """
    return cpu_fast_paths.gemm(x, weight, bias)
