"""Multimodal prompts: images to pixel values, placeholders to image tokens.

``MULTIMODAL_REGISTRY.register_processor(...)`` is the decorator a model
class declares its processing with, as in vLLM 0.33.
"""

from vllm_stub.multimodal.registry import MultiModalRegistry

MULTIMODAL_REGISTRY = MultiModalRegistry()

__all__ = ["MULTIMODAL_REGISTRY", "MultiModalRegistry"]
