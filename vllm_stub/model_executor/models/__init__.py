"""Model implementations and the registry that maps architectures to them."""

from __future__ import annotations

from .registry import ModelRegistry

__all__ = ["ModelRegistry"]
