"""Activations."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class SiluAndMul(nn.Module):
    """``silu(x[..., :d]) * x[..., d:]`` for the fused gate/up projection."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = x.shape[-1] // 2
        return F.silu(x[..., :d]) * x[..., d:]


def get_act_fn(act_fn_name: str) -> nn.Module:
    """The activation module called ``act_fn_name`` (transformers' names)."""
    from transformers.activations import ACT2FN

    name = act_fn_name.lower()
    if name not in ACT2FN:
        raise ValueError(f"Activation function {act_fn_name!r} is not supported.")
    return ACT2FN[name]
