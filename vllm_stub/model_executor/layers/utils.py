"""The GEMM behind every linear layer and the LM head (vLLM's layers/utils)."""

from __future__ import annotations

import torch
from torch import nn

from vllm_stub.model_executor.layers import cpu_fast_paths


def dispatch_cpu_unquantized_gemm(
    layer: nn.Module, remove_weight: bool
) -> torch.Tensor | None:
    """Choose ``layer``'s GEMM once its weight is loaded, as vLLM's CPU backend does.

    A weight the C++ GEMM kernel takes is packed once for it
    (``cpu_fast_paths.pack_weight``) and ``layer.cpu_linear`` multiplies by
    the packed copy. ``remove_weight`` then frees the plain one, as vLLM
    does for a linear layer's (vLLM keeps an embedding's, which serves its
    lookups). Other weights keep the plain GEMM. Returns the packed weight,
    or ``None``.
    """
    packed = cpu_fast_paths.pack_weight(layer.weight)
    if packed is None:
        layer.cpu_linear = cpu_fast_paths.gemm
        return None
    outputs = layer.weight.shape[0]
    layer.cpu_linear = lambda x, weight, bias: cpu_fast_paths.packed_gemm(
        x, packed, outputs, bias
    )
    if remove_weight:
        layer.weight = nn.Parameter(
            torch.empty(0, dtype=layer.weight.dtype), requires_grad=False
        )
    return packed


def unquantized_gemm(
    layer: nn.Module, x: torch.Tensor, bias: torch.Tensor | None = None
) -> torch.Tensor:
    """``F.linear(x, layer.weight, bias)`` as CPU runs it fastest.

    vLLM dispatches this per platform; CPU is the only one here. A layer
    whose weights were processed after loading uses the GEMM chosen then;
    one built and filled by hand uses ``cpu_fast_paths.gemm``, whose result
    may be a transposed view.
    """
    cpu_linear = getattr(layer, "cpu_linear", cpu_fast_paths.gemm)
    return cpu_linear(x, layer.weight, bias)
