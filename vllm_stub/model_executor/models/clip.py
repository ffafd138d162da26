"""CLIP's vision encoder, as LLaVA-style models use it (vLLM's ``clip.py``).

Only the layers up to the feature layer are built (``num_hidden_layers_override``)
and the post-norm only on request, as in vLLM. Parameter names are
transformers' CLIP vision transformer's, without the ``vision_model.`` level
(LLaVA's weight mapper removes it from older checkpoints).
"""

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn
from transformers import CLIPVisionConfig, PretrainedConfig
from transformers.activations import ACT2FN

from vllm_stub.model_executor.model_loader.weight_utils import default_weight_loader


def get_num_image_patches(config: CLIPVisionConfig) -> int:
    """Patches per image: ``(image_size / patch_size) ** 2``."""
    return (config.image_size // config.patch_size) ** 2


class CLIPEncoderInfo:
    """Image token counts of a LLaVA-style config's CLIP tower, as vLLM's."""

    def __init__(self, hf_config: PretrainedConfig) -> None:
        self.hf_config = hf_config
        self.vision_config = hf_config.vision_config

    def get_num_image_tokens(self, *, image_width: int, image_height: int) -> int:
        """Patches plus the class token (images are resized to one size)."""
        return self.get_patch_grid_length() ** 2 + 1

    def get_image_size(self) -> int:
        """The side of the square images the tower takes."""
        return self.vision_config.image_size

    def get_patch_size(self) -> int:
        """The side of one patch."""
        return self.vision_config.patch_size

    def get_patch_grid_length(self) -> int:
        """Patches along one side."""
        return self.get_image_size() // self.get_patch_size()


class CLIPVisionEmbeddings(nn.Module):
    """Patch embedding plus a class token, with learned positions."""

    def __init__(self, config: CLIPVisionConfig) -> None:
        super().__init__()
        self.class_embedding = nn.Parameter(torch.empty(config.hidden_size))
        self.patch_embedding = nn.Conv2d(
            config.num_channels,
            config.hidden_size,
            kernel_size=config.patch_size,
            stride=config.patch_size,
            bias=False,
        )
        num_positions = get_num_image_patches(config) + 1
        self.position_embedding = nn.Embedding(num_positions, config.hidden_size)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        weight = self.patch_embedding.weight
        patches = self.patch_embedding(pixel_values.to(weight.dtype))
        patches = patches.flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(patches.shape[0], 1, -1)
        return torch.cat([cls, patches], dim=1) + self.position_embedding.weight


class CLIPAttention(nn.Module):
    """Bidirectional multi-head attention over an image's tokens."""

    def __init__(self, config: CLIPVisionConfig) -> None:
        super().__init__()
        self.num_heads = config.num_attention_heads
        hidden = config.hidden_size
        self.q_proj = nn.Linear(hidden, hidden)
        self.k_proj = nn.Linear(hidden, hidden)
        self.v_proj = nn.Linear(hidden, hidden)
        self.out_proj = nn.Linear(hidden, hidden)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        batch, length, hidden = hidden_states.shape

        def heads(x: torch.Tensor) -> torch.Tensor:
            return x.view(batch, length, self.num_heads, -1).transpose(1, 2)

        q, k, v = (
            heads(p(hidden_states)) for p in (self.q_proj, self.k_proj, self.v_proj)
        )
        out = F.scaled_dot_product_attention(q, k, v)
        return self.out_proj(out.transpose(1, 2).reshape(batch, length, hidden))


class CLIPMLP(nn.Module):
    """``fc2(act(fc1(x)))`` with CLIP's activation (quick GELU)."""

    def __init__(self, config: CLIPVisionConfig) -> None:
        super().__init__()
        self.fc1 = nn.Linear(config.hidden_size, config.intermediate_size)
        self.act = ACT2FN[config.hidden_act]
        self.fc2 = nn.Linear(config.intermediate_size, config.hidden_size)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(hidden_states)))


class CLIPEncoderLayer(nn.Module):
    """Pre-norm attention and MLP blocks."""

    def __init__(self, config: CLIPVisionConfig) -> None:
        super().__init__()
        eps = config.layer_norm_eps
        self.layer_norm1 = nn.LayerNorm(config.hidden_size, eps=eps)
        self.self_attn = CLIPAttention(config)
        self.layer_norm2 = nn.LayerNorm(config.hidden_size, eps=eps)
        self.mlp = CLIPMLP(config)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        hidden_states = hidden_states + self.self_attn(self.layer_norm1(hidden_states))
        return hidden_states + self.mlp(self.layer_norm2(hidden_states))


class CLIPEncoder(nn.Module):
    """The stack of encoder layers."""

    def __init__(self, config: CLIPVisionConfig, num_layers: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(CLIPEncoderLayer(config) for _ in range(num_layers))

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            hidden_states = layer(hidden_states)
        return hidden_states


class CLIPVisionModel(nn.Module):
    """Images ``[n, 3, H, W]`` to the chosen layer's features ``[n, tokens, hidden]``.

    ``feature_select_strategy`` ``"default"`` drops the class token, ``"full"``
    keeps it, as transformers' LLaVA selects them.
    """

    def __init__(
        self,
        config: CLIPVisionConfig,
        quant_config: object = None,
        *,
        num_hidden_layers_override: int | None = None,
        require_post_norm: bool | None = None,
        prefix: str = "",
    ) -> None:
        super().__init__()
        if quant_config is not None:
            raise NotImplementedError("vllm_stub does not support quantization")
        num_layers = num_hidden_layers_override or config.num_hidden_layers
        self.embeddings = CLIPVisionEmbeddings(config)
        self.pre_layrnorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.encoder = CLIPEncoder(config, num_layers)
        # the post-norm applies after the last layer only: built when asked
        self.post_layernorm = None
        if require_post_norm:
            self.post_layernorm = nn.LayerNorm(
                config.hidden_size, eps=config.layer_norm_eps
            )

    def forward(
        self, pixel_values: torch.Tensor, feature_select_strategy: str = "default"
    ) -> torch.Tensor:
        hidden_states = self.pre_layrnorm(self.embeddings(pixel_values))
        hidden_states = self.encoder(hidden_states)
        if self.post_layernorm is not None:
            hidden_states = self.post_layernorm(hidden_states)
        if feature_select_strategy == "default":
            return hidden_states[:, 1:]
        if feature_select_strategy == "full":
            return hidden_states
        raise ValueError(
            f"Unexpected feature select strategy: {feature_select_strategy!r}"
        )

    def load_weights(self, weights: Iterable[tuple[str, torch.Tensor]]) -> set[str]:
        """Load CLIP's vision weights; those of layers past the feature layer
        and of a post-norm not built are skipped, as vLLM skips them."""
        params = dict(self.named_parameters())
        loaded: set[str] = set()
        for name, weight in weights:
            # transformers' CLIPVisionModel nests the tower in ``vision_model``
            name = name.removeprefix("vision_model.")
            if name not in params:
                if self.is_unused_weight(name):
                    continue
                raise ValueError(f"There is no parameter {name!r} in CLIP's tower")
            default_weight_loader(params[name], weight)
            loaded.add(name)
        return loaded

    def is_unused_weight(self, name: str) -> bool:
        """Whether a checkpoint weight of the tower is one it does not build."""
        name = name.removeprefix("vision_model.")
        if name.startswith("post_layernorm."):
            return self.post_layernorm is None
        parts = name.split(".")
        if parts[:2] == ["encoder", "layers"]:
            return int(parts[2]) >= len(self.encoder.layers)
        return False
