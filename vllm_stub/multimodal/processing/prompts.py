"""Turn ``{"prompt"|"prompt_token_ids", "multi_modal_data"}`` into model inputs.

As vLLM does for LLaVA: each image is preprocessed with the image processor of
the model folder's ``preprocessor_config.json``, and each image placeholder
(the model's ``get_placeholder_str`` in text, ``image_token_index`` in token
ids) is expanded to the number of tokens the image embeds to. A prompt whose
placeholders are already expanded is left as it is. Every mismatch between
images and placeholders is a ``ValueError`` naming both counts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
import transformers
from transformers import PreTrainedTokenizerBase

from vllm_stub.model_executor.models.interfaces import supports_multimodal
from vllm_stub.multimodal.processing.context import InputProcessingContext


@dataclass(frozen=True)
class MultiModalInput:
    """A prompt's images (``pixel_values``) and the positions of their tokens."""

    pixel_values: torch.Tensor
    placeholder_positions: list[int]


class MultiModalProcessor:
    """Processes multimodal prompts for one model (LLaVA-style: images only)."""

    def __init__(
        self,
        model_cls: type,
        hf_config: Any,
        model_folder: str,
        tokenizer: PreTrainedTokenizerBase | None,
    ) -> None:
        self.model_cls = model_cls
        self.hf_config = hf_config
        self.model_folder = model_folder
        self.tokenizer = tokenizer
        self._image_processor: Any = None

    def process(self, prompt: dict[str, Any]) -> tuple[list[int], MultiModalInput]:
        """The expanded token ids and the images of a prompt with images."""
        name = self.model_cls.__name__
        data = prompt["multi_modal_data"]
        if not supports_multimodal(self.model_cls):
            raise ValueError(
                f"{name} is a text-only model: prompts with multi_modal_data "
                f"({', '.join(map(repr, data))}) are not supported"
            )
        if not isinstance(data, dict) or set(data) - {"image"}:
            raise ValueError(
                f'{name} takes multi_modal_data={{"image": ...}} only, got {data!r}'
            )
        images = data.get("image", [])
        images = images if isinstance(images, list) else [images]
        token_ids = self._token_ids(prompt)
        positions = self._placeholder_positions(token_ids, len(images))
        expanded, positions = self._expand(token_ids, positions, len(images))
        return expanded, MultiModalInput(self._pixel_values(images), positions)

    def _token_ids(self, prompt: dict[str, Any]) -> list[int]:
        if "prompt_token_ids" in prompt:
            return list(prompt["prompt_token_ids"])
        if self.tokenizer is None:
            raise ValueError(
                f"text prompts need a tokenizer, and model folder "
                f"{self.model_folder!r} has none; pass prompt_token_ids"
            )
        # the placeholder becomes the image token whatever the tokenizer does
        placeholder = self.model_cls.get_placeholder_str("image", 0)
        ids: list[int] = []
        for i, piece in enumerate(str(prompt["prompt"]).split(placeholder)):
            if i:
                ids.append(self._image_token_id)
            ids += self.tokenizer.encode(piece, add_special_tokens=i == 0)
        return ids

    @functools.cached_property
    def _tokens_per_image(self) -> int:
        """Placeholder tokens one (fixed-size) image expands to.

        A model registered with ``MULTIMODAL_REGISTRY.register_processor``
        says through its processing info (the largest image's count); the
        stub's own LLaVA through its ``get_num_image_tokens`` class method.
        """
        from vllm_stub.multimodal import MULTIMODAL_REGISTRY

        if not MULTIMODAL_REGISTRY.has_processor(self.model_cls):
            return self.model_cls.get_num_image_tokens(self.hf_config)
        # the two fields processing info reads of vLLM's ModelConfig
        model_config = SimpleNamespace(
            hf_config=self.hf_config, model=self.model_folder
        )
        ctx = InputProcessingContext(model_config, self.tokenizer)
        info = MULTIMODAL_REGISTRY.create_processor(self.model_cls, ctx).info
        size = info.get_image_size_with_most_features()
        return info.get_num_image_tokens(
            image_width=size.width, image_height=size.height
        )

    @property
    def _image_token_id(self) -> int:
        config = self.hf_config
        return getattr(config, "image_token_index", None) or config.image_token_id

    def _placeholder_positions(
        self, token_ids: list[int], num_images: int
    ) -> list[int]:
        positions = [i for i, t in enumerate(token_ids) if t == self._image_token_id]
        per_image = self._tokens_per_image
        if len(positions) in (num_images, num_images * per_image):
            return positions
        placeholder = self.model_cls.get_placeholder_str("image", 0)
        what = (
            "no image placeholder"
            if not positions
            else (f"{len(positions)} image placeholders")
        )
        raise ValueError(
            f"the prompt has {what} ({placeholder!r}, token id "
            f"{self._image_token_id}) for {num_images} image(s): put one "
            "placeholder in the prompt per image"
        )

    def _expand(
        self, token_ids: list[int], positions: list[int], num_images: int
    ) -> tuple[list[int], list[int]]:
        if len(positions) != num_images or num_images == 0:
            return token_ids, positions  # already expanded
        per_image = self._tokens_per_image
        expanded: list[int] = []
        new_positions: list[int] = []
        for token in token_ids:
            if token == self._image_token_id:
                new_positions += range(len(expanded), len(expanded) + per_image)
                expanded += [token] * per_image
            else:
                expanded.append(token)
        return expanded, new_positions

    def _pixel_values(self, images: list[Any]) -> torch.Tensor:
        from PIL import Image

        for image in images:
            if not isinstance(image, Image.Image):
                raise ValueError(
                    f"an image must be a PIL.Image.Image, got {type(image).__name__}"
                )
        if self._image_processor is None:
            if not (Path(self.model_folder) / "preprocessor_config.json").exists():
                raise ValueError(
                    f"model folder {self.model_folder!r} has no "
                    "preprocessor_config.json to preprocess images with"
                )
            # the PIL processor needs no torchvision (transformers >= 5)
            # not a getattr default: naming CLIPImageProcessor warns
            pil = getattr(transformers, "CLIPImageProcessorPil", None)
            cls = pil or transformers.CLIPImageProcessor
            self._image_processor = cls.from_pretrained(self.model_folder)
        return self._image_processor(images=images, return_tensors="pt")["pixel_values"]
