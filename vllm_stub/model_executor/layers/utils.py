"""The GEMM behind every linear layer and the LM head (vLLM's layers/utils)."""

from __future__ import annotations

import torch
from torch import nn

from vllm_stub.model_executor.layers import cpu_fast_paths


def dispatch_cpu_unquantized_gemm(layer: nn.Module) -> torch.Tensor | None:
    """Choose ``layer``'s GEMM once its weight is loaded, as vLLM's CPU backend does.

    A weight the C++ GEMM kernel takes is packed for it, in place
    (``cpu_fast_paths.pack_weight_``), and ``layer.cpu_linear`` multiplies
    by the packed layout; ``layer.weight`` becomes an empty parameter, as
    vLLM's ``remove_weight=True`` leaves it. vLLM's ``remove_weight`` flag is
    gone: a weight packed in place cannot stay readable as a matrix, so a
    tied embedding looks its tokens up in the packed layout instead
    (``VocabParallelEmbedding.look_up_in``). Other weights keep the plain
    GEMM. Returns the packed weight, or ``None``.
    """
    weight = layer.weight
    packed = cpu_fast_paths.pack_weight_(weight)
    if packed is None:
        layer.cpu_linear = cpu_fast_paths.gemm
        return None
    outputs = weight.shape[0]
    layer.cpu_linear = lambda x, _weight, bias: cpu_fast_paths.packed_gemm(
        x, packed, outputs, bias
    )
    layer.weight = nn.Parameter(torch.empty(0, dtype=weight.dtype), requires_grad=False)
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
