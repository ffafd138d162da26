"""LLaVA (1.5): a CLIP vision tower and a projector feeding a causal LM.

As vLLM's ``llava.py``: ``embed_multimodal(pixel_values=...)`` runs the tower
up to ``vision_feature_layer``, selects features (``default``: without the
class token) and projects them; the engine scatters them over the image
placeholder tokens (``image_token_index``), each image expanded to
``get_num_image_tokens`` of them. The language model is the registered class
of the text config's architecture.
"""

from collections.abc import Iterable

import torch
from torch import nn
from transformers import PretrainedConfig
from transformers.activations import ACT2FN

from vllm_stub.config import VllmConfig
from vllm_stub.model_executor.layers.linear import (
    ColumnParallelLinear,
    RowParallelLinear,
)
from vllm_stub.model_executor.model_loader.weights_mapper import WeightsMapper
from vllm_stub.model_executor.models.clip import CLIPVisionModel, get_num_image_patches
from vllm_stub.model_executor.models.interfaces import (
    MultiModalEmbeddings,
    SupportsMultiModal,
    SupportsPP,
)
from vllm_stub.model_executor.models.registry import ModelRegistry
from vllm_stub.model_executor.models.utils import (
    AutoWeightsLoader,
    get_layer_index,
    maybe_prefix,
)
from vllm_stub.sequence import IntermediateTensors


class LlavaMultiModalProjector(nn.Module):
    """Two linear layers mapping vision features to the text hidden size."""

    def __init__(self, config: PretrainedConfig, prefix: str = "") -> None:
        super().__init__()
        vision, text = config.vision_config.hidden_size, config.text_config.hidden_size
        bias = getattr(config, "multimodal_projector_bias", True)
        self.linear_1 = ColumnParallelLinear(
            vision, text, bias=bias, prefix=f"{prefix}.linear_1"
        )
        self.act = ACT2FN[config.projector_hidden_act]
        self.linear_2 = RowParallelLinear(
            text, text, bias=bias, prefix=f"{prefix}.linear_2"
        )

    def forward(self, image_features: torch.Tensor) -> torch.Tensor:
        hidden_states, _ = self.linear_1(image_features)
        hidden_states, _ = self.linear_2(self.act(hidden_states))
        return hidden_states


def _text_model_cls(text_config: PretrainedConfig) -> type[nn.Module]:
    archs = getattr(text_config, "architectures", None) or [
        type(text_config).__name__.removesuffix("Config") + "ForCausalLM"
    ]
    return ModelRegistry.resolve_model_cls(archs)[0]


class LlavaForConditionalGeneration(nn.Module, SupportsMultiModal, SupportsPP):
    """A vision tower and projector feeding the text config's causal LM."""

    packed_modules_mapping = {
        "qkv_proj": ["q_proj", "k_proj", "v_proj"],
        "gate_up_proj": ["gate_proj", "up_proj"],
    }
    # transformers >= 4.52 nests the parts under ``model.``; older
    # checkpoints wrap CLIP in ``vision_model.``
    hf_to_vllm_mapper = WeightsMapper(
        orig_to_new_prefix={
            "model.language_model.": "language_model.model.",
            "model.vision_tower.": "vision_tower.",
            "model.multi_modal_projector.": "multi_modal_projector.",
            "lm_head.": "language_model.lm_head.",
            "vision_tower.vision_model.": "vision_tower.",
        }
    )

    @classmethod
    def get_placeholder_str(cls, modality: str, i: int) -> str | None:
        """``<image>`` for every image."""
        if modality.startswith("image"):
            return "<image>"
        raise ValueError(f"Unsupported modality: {modality}")

    @classmethod
    def get_num_image_tokens(cls, config: PretrainedConfig) -> int:
        """Placeholder tokens one image expands to (fixed-size images)."""
        num_patches = get_num_image_patches(config.vision_config)
        if config.vision_feature_select_strategy == "full":
            return num_patches + 1
        return num_patches

    def __init__(self, *, vllm_config: VllmConfig, prefix: str = "") -> None:
        super().__init__()
        config = vllm_config.model_config.hf_config
        self.config = config
        if not isinstance(config.vision_feature_layer, int):
            raise NotImplementedError(
                "vllm_stub's LLaVA takes one vision_feature_layer, not a list"
            )
        vision_config = config.vision_config
        self.vision_tower = CLIPVisionModel(
            vision_config,
            num_hidden_layers_override=get_layer_index(
                config.vision_feature_layer, vision_config.num_hidden_layers
            ),
            require_post_norm=False,
            prefix=maybe_prefix(prefix, "vision_tower"),
        )
        self.multi_modal_projector = LlavaMultiModalProjector(
            config, prefix=maybe_prefix(prefix, "multi_modal_projector")
        )
        self.language_model = _text_model_cls(config.text_config)(
            vllm_config=vllm_config.with_hf_config(config.text_config),
            prefix=maybe_prefix(prefix, "language_model"),
        )

    def embed_multimodal(self, **kwargs: object) -> MultiModalEmbeddings:
        """Projected features ``[num_image_tokens, hidden]`` per image."""
        pixel_values = kwargs.get("pixel_values")
        if pixel_values is None:
            return []
        features = self.vision_tower(
            pixel_values,
            feature_select_strategy=self.config.vision_feature_select_strategy,
        )
        return list(self.multi_modal_projector(features))

    def forward(
        self,
        input_ids: torch.Tensor | None,
        positions: torch.Tensor,
        intermediate_tensors: IntermediateTensors | None = None,
        inputs_embeds: torch.Tensor | None = None,
        **kwargs: object,
    ) -> torch.Tensor | IntermediateTensors:
        """Hidden states; image embeddings arrive merged in ``inputs_embeds``."""
        return self.language_model.model(
            input_ids, positions, intermediate_tensors, inputs_embeds
        )

    def compute_logits(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """Vocabulary logits from the language model's head."""
        return self.language_model.compute_logits(hidden_states)

    def is_unused_checkpoint_weight(self, name: str) -> bool:
        """Vision layers past the feature layer, and CLIP's post-norm."""
        mapped = self.hf_to_vllm_mapper.map_name(name) or ""
        if not mapped.startswith("vision_tower."):
            return False
        params = dict(self.vision_tower.named_parameters())
        return mapped.removeprefix("vision_tower.") not in params

    def load_weights(self, weights: Iterable[tuple[str, torch.Tensor]]) -> set[str]:
        """Load a LLaVA checkpoint in either transformers layout."""
        used = (
            (name, tensor)
            for name, tensor in weights
            if not self.is_unused_checkpoint_weight(name)
        )
        return AutoWeightsLoader(self).load_weights(used, mapper=self.hf_to_vllm_mapper)
