"""RMSNorm with vLLM's fused residual add."""

from __future__ import annotations

import torch
from torch import nn

from vllm_stub.model_executor.layers import cpu_fast_paths


class RMSNorm(nn.Module):
    """Root-mean-square norm; ``forward(x, residual)`` also adds the residual.

    The statistics are computed in float32 and cast back before the weight is
    applied, in the same order as transformers, so low-precision runs match it.
    """

    def __init__(
        self,
        hidden_size: int,
        eps: float = 1e-6,
        var_hidden_size: int | None = None,
        has_weight: bool = True,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.variance_epsilon = eps
        if var_hidden_size not in (None, hidden_size):
            raise NotImplementedError("var_hidden_size is not supported")
        weight = torch.ones(hidden_size, dtype=dtype)
        if has_weight:
            self.weight = nn.Parameter(weight, requires_grad=False)
        else:
            self.register_buffer("weight", weight, persistent=False)

    def forward(
        self, x: torch.Tensor, residual: torch.Tensor | None = None
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Normalise ``x`` (or ``x + residual``, returned as the new residual)."""
        if residual is None:
            return cpu_fast_paths.rms_norm(x, self.weight, self.variance_epsilon)
        return cpu_fast_paths.fused_add_rms_norm(
            x, residual, self.weight, self.variance_epsilon
        )
