"""Turn a causal LM class into a pooling model, as vLLM's ``adapters.py``.

``as_embedding_model(cls)`` pools the last token's hidden state and
normalises it; ``as_seq_cls_model(cls)`` adds a ``score`` linear on the pooled
state and a softmax. Both drop the LM head (vLLM never builds it for a pooling
model) and load checkpoints saved either with the causal LM's names or with
the bare backbone's (``*Model``: no ``model.`` prefix).
"""

from collections.abc import Iterable
from typing import Any, TypeVar

import torch
from torch import nn

from vllm_stub.config import VllmConfig
from vllm_stub.model_executor.layers.linear import ReplicatedLinear
from vllm_stub.model_executor.layers.logits_processor import LogitsProcessor
from vllm_stub.model_executor.layers.pooler import DispatchPooler, Pooler
from vllm_stub.model_executor.layers.vocab_parallel_embedding import ParallelLMHead
from vllm_stub.model_executor.models.interfaces_base import (
    VllmModelForPooling,
    is_pooling_model,
)
from vllm_stub.model_executor.models.utils import (
    AutoWeightsLoader,
    PPMissingLayer,
    maybe_prefix,
)

_T = TypeVar("_T", bound=type[nn.Module])

_GENERATE_SUFFIXES = [
    "ForCausalLM",
    "ForConditionalGeneration",
    "ChatModel",
    "LMHeadModel",
]


def _get_pooling_model_name(orig_model_name: str, pooling_suffix: str) -> str:
    for suffix in _GENERATE_SUFFIXES:
        orig_model_name = orig_model_name.removesuffix(suffix)
    return orig_model_name + pooling_suffix


def _drop_output_layers(model: nn.Module) -> None:
    """Replace every LM head and logits processor with a placeholder."""
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, (ParallelLMHead, LogitsProcessor)):
                setattr(parent, name, PPMissingLayer())


def _create_pooling_model_cls(orig_cls: _T) -> _T:
    class ModelForPooling(orig_cls, VllmModelForPooling):
        is_pooling_model = True

        def __init__(
            self, *, vllm_config: VllmConfig, prefix: str = "", **kwargs: Any
        ) -> None:
            super().__init__(vllm_config=vllm_config, prefix=prefix, **kwargs)
            _drop_output_layers(self)
            self.vllm_config = vllm_config
            # a model that defines its own pooler keeps it
            if getattr(self, "pooler", None) is None:
                self.pooler = self._init_pooler(vllm_config, prefix=prefix)

        def _init_pooler(self, vllm_config: VllmConfig, prefix: str = "") -> Pooler:
            raise NotImplementedError

        def load_weights(self, weights: Iterable[tuple[str, torch.Tensor]]) -> set[str]:
            """Load a causal-LM or a bare-backbone (``*Model``) checkpoint."""
            weights = iter(weights)
            first = next(weights, None)
            if first is None:
                return set()
            params = dict(self.named_parameters())
            # a backbone's checkpoint names lack the causal LM's ``model.``
            prefix = "model." if f"model.{first[0]}" in params else ""
            renamed = ((prefix + name, w) for name, w in _chain(first, weights))
            parent_load = getattr(super(), "load_weights", None)
            if parent_load is None:
                return AutoWeightsLoader(self).load_weights(renamed)
            return parent_load(renamed)

    return ModelForPooling


def _chain(first: Any, rest: Iterable[Any]) -> Iterable[Any]:
    yield first
    yield from rest


def as_embedding_model(cls: _T) -> _T:
    """``cls`` as an embedding model: last token, L2-normalised (``embed``)."""
    if is_pooling_model(cls):
        return cls

    class ModelForEmbedding(_create_pooling_model_cls(cls)):
        def _init_pooler(self, vllm_config: VllmConfig, prefix: str = "") -> Pooler:
            pooler_config = vllm_config.model_config.pooler_config
            assert pooler_config is not None
            return DispatchPooler.for_embedding(pooler_config)

    ModelForEmbedding.__name__ = _get_pooling_model_name(cls.__name__, "ForEmbedding")
    ModelForEmbedding.__qualname__ = ModelForEmbedding.__name__
    return ModelForEmbedding


def as_seq_cls_model(cls: _T) -> _T:
    """``cls`` as a classifier: a ``score`` linear on the last token (``classify``)."""
    if is_pooling_model(cls):
        return cls

    class ModelForSequenceClassification(_create_pooling_model_cls(cls)):
        def _init_pooler(self, vllm_config: VllmConfig, prefix: str = "") -> Pooler:
            model_config = vllm_config.model_config
            text_config = model_config.hf_config.get_text_config()
            self.score = ReplicatedLinear(
                text_config.hidden_size,
                model_config.hf_config.num_labels,
                bias=False,
                params_dtype=model_config.head_dtype,
                quant_config=vllm_config.quant_config,
                return_bias=False,
                prefix=maybe_prefix(prefix, "score"),
            )
            pooler_config = model_config.pooler_config
            assert pooler_config is not None
            return DispatchPooler.for_seq_cls(pooler_config, classifier=self.score)

    ModelForSequenceClassification.__name__ = _get_pooling_model_name(
        cls.__name__, "ForSequenceClassification"
    )
    ModelForSequenceClassification.__qualname__ = (
        ModelForSequenceClassification.__name__
    )
    return ModelForSequenceClassification
