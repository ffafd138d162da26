"""What a model's processing info reads: its configs, tokenizer, HF processor."""

from dataclasses import dataclass
from typing import Any

from transformers import PretrainedConfig, PreTrainedTokenizerBase


@dataclass(frozen=True)
class InputProcessingContext:
    """The model's config (``.hf_config``, ``.model``: its folder) and tokenizer."""

    model_config: Any
    tokenizer: PreTrainedTokenizerBase | None

    def get_tokenizer(self) -> PreTrainedTokenizerBase:
        """The tokenizer; ``ValueError`` when the model has none."""
        if self.tokenizer is None:
            raise ValueError("this model has no tokenizer")
        return self.tokenizer

    def get_hf_config(self, typ: type | None = None) -> PretrainedConfig:
        """The model's transformers config, checked against ``typ`` if given."""
        config = self.model_config.hf_config
        if typ is not None and not isinstance(config, typ):
            raise TypeError(
                f"expected a {typ.__name__}, the model's config is "
                f"{type(config).__name__}"
            )
        return config

    def get_hf_processor(self, typ: type | None = None, **kwargs: object) -> Any:
        """The model folder's transformers processor (``typ``, or the auto one)."""
        import transformers

        cls = typ or transformers.AutoProcessor
        return cls.from_pretrained(self.model_config.model, **kwargs)


class BaseProcessingInfo:
    """What processing needs to know about a model, as vLLM's base class."""

    def __init__(self, ctx: InputProcessingContext) -> None:
        self.ctx = ctx

    @property
    def model_id(self) -> str:
        """The model's folder."""
        return self.ctx.model_config.model

    def get_tokenizer(self) -> PreTrainedTokenizerBase:
        """The model's tokenizer."""
        return self.ctx.get_tokenizer()

    def get_hf_config(self) -> PretrainedConfig:
        """The model's transformers config."""
        return self.ctx.get_hf_config()

    def get_hf_processor(self, **kwargs: object) -> Any:
        """The model's transformers processor."""
        return self.ctx.get_hf_processor(**kwargs)

    def get_supported_mm_limits(self) -> dict[str, int | None]:
        """Items per prompt, by modality (None: any number)."""
        raise NotImplementedError
