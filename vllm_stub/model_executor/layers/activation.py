"""Activations."""

from __future__ import annotations

import torch
from torch import nn

from vllm_stub.model_executor.layers import cpu_fast_paths


class SiluAndMul(nn.Module):
    """``silu(x[..., :d]) * x[..., d:]`` for the fused gate/up projection."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return cpu_fast_paths.silu_and_mul(x)


def get_act_fn(act_fn_name: str) -> nn.Module:
    """The activation module called ``act_fn_name`` (transformers' names)."""
    from transformers.activations import ACT2FN

    name = act_fn_name.lower()
    if name not in ACT2FN:
        raise ValueError(f"Activation function {act_fn_name!r} is not supported.")
    return ACT2FN[name]
