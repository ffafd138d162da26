"""Quantization configs: only the base type, since vllm_stub runs unquantized."""

from __future__ import annotations


class QuantizationConfig:
    """Base of vLLM's quantization configs (``vllm_config.quant_config`` is None)."""
