"""Parsed multimodal items' shapes, as vLLM's ``vllm.multimodal.parse``."""

from typing import NamedTuple


class ImageSize(NamedTuple):
    """An image's width and height in pixels."""

    width: int
    height: int
