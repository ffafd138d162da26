"""Multimodal processing, as vLLM 0.33's ``vllm.multimodal.processing``.

The base classes a model's processor registration names
(``BaseProcessingInfo``, ``BaseDummyInputsBuilder``,
``BaseMultiModalProcessor``), and the engine's own prompt processing
(``MultiModalProcessor``: images to pixel values, placeholders expanded).
"""

from vllm_stub.multimodal.processing.context import (
    BaseProcessingInfo,
    InputProcessingContext,
)
from vllm_stub.multimodal.processing.dummy_inputs import BaseDummyInputsBuilder
from vllm_stub.multimodal.processing.processor import BaseMultiModalProcessor
from vllm_stub.multimodal.processing.prompts import (
    MultiModalInput,
    MultiModalProcessor,
)

__all__ = [
    "BaseDummyInputsBuilder",
    "BaseMultiModalProcessor",
    "BaseProcessingInfo",
    "InputProcessingContext",
    "MultiModalInput",
    "MultiModalProcessor",
]
