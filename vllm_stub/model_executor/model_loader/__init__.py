"""Building a model from a local folder and loading its safetensors weights."""

from __future__ import annotations

from vllm_stub.model_executor.model_loader.loader import get_model

__all__ = ["get_model"]
