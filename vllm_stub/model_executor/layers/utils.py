"""The GEMM behind every linear layer and the LM head (vLLM's layers/utils)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

# Up to this many rows (decode batches) the weight-on-the-left form pays off.
_FEW_ROWS = 32


def unquantized_gemm(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None
) -> torch.Tensor:
    """``F.linear(x, weight, bias)``, computed as ``(weight @ x.T).T`` when faster.

    For a few float32 rows and a weight with at least as many output as input
    features, MKL runs ``weight @ x.T`` 1.3-2x faster than ``x @ weight.T``: it
    streams the weight as stored instead of repacking it on every call (the LM
    head gains most). The result is then a transposed view: callers that hand
    it to code expecting ``F.linear``'s contiguous output call ``.contiguous()``.
    """
    out_features, in_features = weight.shape
    if (
        x.dim() != 2
        or x.shape[0] > _FEW_ROWS
        or x.dtype != torch.float32
        or out_features < in_features
    ):
        return F.linear(x, weight, bias)
    if bias is None:
        out = torch.mm(weight, x.t())
    else:
        out = torch.addmm(bias.unsqueeze(1), weight, x.t())
    return out.t()
