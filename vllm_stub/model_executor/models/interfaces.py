"""Capability mixins a model class declares, as in vLLM's ``interfaces.py``."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import torch


class SupportsLoRA:
    """The model can take LoRA adapters; fused layers are named in the mapping."""

    supports_lora: ClassVar[Literal[True]] = True
    packed_modules_mapping: ClassVar[dict[str, list[str]]] = {}
    embedding_modules: ClassVar[dict[str, str]] = {}


class SupportsPP:
    """The model can be split into pipeline stages (``make_layers``, ...)."""

    supports_pp: ClassVar[Literal[True]] = True


class SupportsQuant:
    """The model can be quantized: ``quant_config`` is what it was built with.

    vLLM finds the config among the constructor's arguments; nothing is
    quantized here, so it is always ``None``.
    """

    hf_to_vllm_mapper: ClassVar[Any] = None
    quant_config: Any = None


class SupportsEagleBase:
    """Base of the EAGLE speculative-decoding interfaces (class markers here)."""

    has_own_lm_head: ClassVar[bool] = False
    has_own_embed_tokens: ClassVar[bool] = False


class SupportsEagle(SupportsEagleBase):
    """The model can be the target of EAGLE-1/2 drafting."""

    supports_eagle: ClassVar[Literal[True]] = True


class SupportsEagle3(SupportsEagleBase):
    """The model can be the target of EAGLE-3 drafting."""

    supports_eagle3: ClassVar[Literal[True]] = True


class LocalArgmaxMixin:
    """``get_top_tokens``: the argmax token per row, as a drafter head needs."""

    def get_top_tokens(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """The most likely token of each row of ``hidden_states``."""
        top = self.logits_processor.get_top_tokens(self.lm_head, hidden_states)
        d2t = getattr(self, "draft_id_to_target_id", None)
        return top if d2t is None else top + d2t[top]


class EagleModelMixin:
    """A backbone that can hand chosen layers' hidden states to an EAGLE-3 drafter.

    No drafter runs here, so no layer is chosen and nothing is collected;
    the methods keep vLLM 0.33's names and results for that case.
    """

    aux_hidden_state_layers: tuple[int, ...] = ()
    supports_aux_hidden_states_over_pp: ClassVar[bool] = False
    AUX_HIDDEN_STATE_KEY: ClassVar[str] = "aux_hidden_states_"

    def _maybe_add_hidden_state(
        self,
        aux_hidden_states: list[torch.Tensor],
        layer_idx: int,
        hidden_states: torch.Tensor,
        residual: torch.Tensor | None,
    ) -> list[torch.Tensor]:
        if layer_idx in self.aux_hidden_state_layers:
            value = hidden_states if residual is None else hidden_states + residual
            aux_hidden_states.append(value)
        return aux_hidden_states

    def pack_local_aux_hidden_states(
        self, aux_hidden_states: list[torch.Tensor]
    ) -> dict[str, torch.Tensor]:
        """The collected states keyed for the next pipeline stage."""
        return {
            f"{self.AUX_HIDDEN_STATE_KEY}{i}": t
            for i, t in enumerate(aux_hidden_states)
        }

    def collect_remote_aux_hidden_states(
        self, intermediate_tensors: Any
    ) -> list[torch.Tensor]:
        """States earlier stages collected: none, with a single stage."""
        return []


# one tensor [num_tokens, hidden] per multimodal item, in prompt order
MultiModalEmbeddings = list[torch.Tensor] | torch.Tensor | tuple[torch.Tensor, ...]


class SupportsMultiModal:
    """The model takes images (or other modalities) besides text, as vLLM's.

    ``embed_multimodal(**kwargs)`` turns the processed inputs into one
    embedding per item; ``embed_input_ids`` scatters them into the text
    embeddings where ``is_multimodal`` marks placeholder tokens.
    ``get_placeholder_str(modality, i)`` is the prompt text standing for the
    ``i``-th item.
    """

    supports_multimodal: ClassVar[Literal[True]] = True

    @classmethod
    def get_placeholder_str(cls, modality: str, i: int) -> str | None:
        """The placeholder text for the ``i``-th ``modality`` item."""
        raise NotImplementedError

    def embed_multimodal(self, **kwargs: object) -> MultiModalEmbeddings:
        """One embedding tensor per multimodal item in ``kwargs``."""
        raise NotImplementedError

    def get_language_model(self) -> torch.nn.Module:
        """The text model the multimodal embeddings feed."""
        return self.language_model

    def embed_input_ids(
        self,
        input_ids: torch.Tensor,
        multimodal_embeddings: MultiModalEmbeddings | None = None,
        *,
        is_multimodal: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Text embeddings, with ``multimodal_embeddings`` where ``is_multimodal``."""
        inputs_embeds = self.get_language_model().embed_input_ids(input_ids)
        if multimodal_embeddings is None or len(multimodal_embeddings) == 0:
            return inputs_embeds
        if is_multimodal is None:
            raise ValueError("is_multimodal is required with multimodal_embeddings")
        flat = torch.cat([e.reshape(-1, e.shape[-1]) for e in multimodal_embeddings])
        if flat.shape[0] != int(is_multimodal.sum()):
            raise ValueError(
                f"{flat.shape[0]} multimodal embeddings for "
                f"{int(is_multimodal.sum())} placeholder tokens"
            )
        inputs_embeds[is_multimodal] = flat.to(inputs_embeds.dtype)
        return inputs_embeds


def supports_multimodal(model: type | object) -> bool:
    """Whether ``model`` (a class or an instance) takes multimodal inputs."""
    return bool(getattr(model, "supports_multimodal", False))
