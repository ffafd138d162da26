"""``maybe_fused_act_quant``: activation fused with the next layer's input quant."""

from __future__ import annotations

import torch
from torch import nn


def maybe_fused_act_quant(
    act_fn: nn.Module, x: torch.Tensor, linear: nn.Module
) -> torch.Tensor:
    """``act_fn(x)``: vLLM fuses it with ``linear``'s input quantization when
    a quantized kernel exists; nothing is quantized here, so it never does."""
    return act_fn(x)
