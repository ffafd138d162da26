"""Which processor a multimodal model class uses, as vLLM's ``MultiModalRegistry``.

``register_processor(processor, info=..., dummy_inputs=...)`` decorates a
model class and records the three factories on it (``_processor_factory``),
as vLLM 0.33 does; ``create_processor`` builds them for a model.
"""

import logging
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from vllm_stub.multimodal.processing.context import (
    BaseProcessingInfo,
    InputProcessingContext,
)

logger = logging.getLogger(__name__)

_I = TypeVar("_I", bound=BaseProcessingInfo)
_N = TypeVar("_N", bound=type)


@dataclass(frozen=True)
class _ProcessorFactories(Generic[_I]):
    info: Any
    processor: Any
    dummy_inputs: Any

    def build_processor(self, ctx: InputProcessingContext) -> Any:
        info = self.info(ctx)
        return self.processor(info, self.dummy_inputs(info))


class MultiModalRegistry:
    """Dispatches multimodal processing by model class."""

    def register_processor(self, processor: Any, *, info: Any, dummy_inputs: Any):
        """A class decorator: ``model_cls`` processes its inputs with these."""

        def wrapper(model_cls: _N) -> _N:
            if "_processor_factory" in model_cls.__dict__:
                logger.warning(
                    "Model class %s already has a multi-modal processor "
                    "registered; it is overwritten by the new one.",
                    model_cls,
                )
            model_cls._processor_factory = _ProcessorFactories(
                info=info, processor=processor, dummy_inputs=dummy_inputs
            )
            return model_cls

        return wrapper

    def has_processor(self, model_cls: type) -> bool:
        """Whether a processor is registered for ``model_cls``."""
        return hasattr(model_cls, "_processor_factory")

    def create_processor(self, model_cls: type, ctx: InputProcessingContext) -> Any:
        """The registered processor of ``model_cls``, built for ``ctx``."""
        if not self.has_processor(model_cls):
            raise ValueError(
                f"Model class {model_cls.__name__} has no registered "
                "multi-modal processor"
            )
        return model_cls._processor_factory.build_processor(ctx)
