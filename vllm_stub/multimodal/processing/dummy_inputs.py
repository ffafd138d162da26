"""Dummy prompts and images for profiling, as vLLM's ``BaseDummyInputsBuilder``."""

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from vllm_stub.multimodal.processing.context import BaseProcessingInfo

_I = TypeVar("_I", bound=BaseProcessingInfo)


class BaseDummyInputsBuilder(ABC, Generic[_I]):
    """Builds the inputs that expand to the most placeholder tokens."""

    def __init__(self, info: _I) -> None:
        self.info = info

    @abstractmethod
    def get_dummy_text(self, mm_counts: Mapping[str, int]) -> str:
        """The text with one placeholder per item of ``mm_counts``."""
        raise NotImplementedError

    @abstractmethod
    def get_dummy_mm_data(
        self,
        seq_len: int,
        mm_counts: Mapping[str, int],
        mm_options: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The items (``{"image": [...]}``) for ``mm_counts``."""
        raise NotImplementedError

    def _get_dummy_images(
        self,
        *,
        width: int,
        height: int,
        num_images: int,
        overrides: Any = None,
    ) -> list[Any]:
        """``num_images`` white RGB images (overrides may only shrink them)."""
        from PIL import Image

        if num_images == 0:
            return []
        if overrides is not None:
            width = min(width, getattr(overrides, "width", None) or width)
            height = min(height, getattr(overrides, "height", None) or height)
        return [Image.new("RGB", (width, height), color=255)] * num_images
