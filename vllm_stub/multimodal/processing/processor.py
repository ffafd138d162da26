"""A model's multimodal processor, as vLLM's ``BaseMultiModalProcessor``.

vLLM's turns items into model inputs and prompt updates; the stub's engine
does that itself (``prompts.MultiModalProcessor``, from the processing info's
token counts), so a registered processor only needs to construct.
"""

from abc import ABC
from typing import Generic, TypeVar

from vllm_stub.multimodal.processing.context import BaseProcessingInfo
from vllm_stub.multimodal.processing.dummy_inputs import BaseDummyInputsBuilder

_I = TypeVar("_I", bound=BaseProcessingInfo)


class BaseMultiModalProcessor(ABC, Generic[_I]):
    """Processes one model's multimodal prompts."""

    def __init__(self, info: _I, dummy_inputs: BaseDummyInputsBuilder[_I]) -> None:
        self.info = info
        self.dummy_inputs = dummy_inputs
