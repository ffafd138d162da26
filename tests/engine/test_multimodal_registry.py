"""vllm_stub's MULTIMODAL_REGISTRY as vLLM 0.33's: register_processor records
the processor, info and dummy-inputs factories on the model class."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import SimpleNamespace

import pytest
import transformers

from vllm_stub.model_executor.models.clip import CLIPEncoderInfo
from vllm_stub.model_executor.models.vision import get_num_selected_vision_tokens
from vllm_stub.multimodal import MULTIMODAL_REGISTRY, MultiModalRegistry
from vllm_stub.multimodal.parse import ImageSize
from vllm_stub.multimodal.processing import (
    BaseDummyInputsBuilder,
    BaseMultiModalProcessor,
    BaseProcessingInfo,
    InputProcessingContext,
)


class Info(BaseProcessingInfo):
    def get_supported_mm_limits(self) -> Mapping[str, int | None]:
        return {"image": None}

    def get_num_image_tokens(self, *, image_width: int, image_height: int) -> int:
        config = self.get_hf_config()
        count = CLIPEncoderInfo(config).get_num_image_tokens(
            image_width=image_width, image_height=image_height
        )
        return get_num_selected_vision_tokens(
            count, config.vision_feature_select_strategy
        )

    def get_image_size_with_most_features(self) -> ImageSize:
        size = CLIPEncoderInfo(self.get_hf_config()).get_image_size()
        return ImageSize(width=size, height=size)


class Dummy(BaseDummyInputsBuilder[Info]):
    def get_dummy_text(self, mm_counts: Mapping[str, int]) -> str:
        return "<image>" * mm_counts.get("image", 0)

    def get_dummy_mm_data(self, seq_len, mm_counts, mm_options=None):
        size = self.info.get_image_size_with_most_features()
        return {
            "image": self._get_dummy_images(
                width=size.width, height=size.height, num_images=mm_counts["image"]
            )
        }


class Processor(BaseMultiModalProcessor[Info]):
    pass


def _ctx(strategy: str) -> InputProcessingContext:
    config = transformers.LlavaConfig(
        vision_config={
            "model_type": "clip_vision_model",
            "image_size": 30,
            "patch_size": 10,
        },
        vision_feature_select_strategy=strategy,
    )
    return InputProcessingContext(SimpleNamespace(hf_config=config, model="x"), None)


def test_register_processor_records_the_factories_and_builds_them():
    @MULTIMODAL_REGISTRY.register_processor(Processor, info=Info, dummy_inputs=Dummy)
    class Model:
        pass

    assert MULTIMODAL_REGISTRY.has_processor(Model)
    processor = MULTIMODAL_REGISTRY.create_processor(Model, _ctx("default"))
    assert isinstance(processor, Processor) and isinstance(processor.info, Info)
    assert processor.dummy_inputs.info is processor.info
    assert processor.info.get_num_image_tokens(image_width=7, image_height=9) == 9
    (image,) = processor.dummy_inputs.get_dummy_mm_data(0, {"image": 1})["image"]
    assert image.size == (30, 30)
    full = MULTIMODAL_REGISTRY.create_processor(Model, _ctx("full")).info
    assert full.get_num_image_tokens(image_width=30, image_height=30) == 10


def test_a_class_without_a_processor_and_reregistration(caplog):
    registry = MultiModalRegistry()

    class Model:
        pass

    assert not registry.has_processor(Model)
    with pytest.raises(ValueError, match="Model has no registered multi-modal"):
        registry.create_processor(Model, _ctx("default"))
    register = registry.register_processor(Processor, info=Info, dummy_inputs=Dummy)
    register(Model)
    with caplog.at_level(logging.WARNING):
        register(Model)
    assert "already has a multi-modal processor" in caplog.text
