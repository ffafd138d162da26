"""Helpers shared by layers."""

from __future__ import annotations

from typing import Any

import torch


def set_weight_attrs(weight: torch.Tensor, weight_attrs: dict[str, Any] | None) -> None:
    """Attach attributes (``weight_loader``...) to a parameter, never overwriting."""
    for key, value in (weight_attrs or {}).items():
        if hasattr(weight, key):
            raise AttributeError(f"overwriting existing tensor attribute: {key}")
        setattr(weight, key, value)
