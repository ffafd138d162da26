"""Activations applied after pooling: normalise embeddings, classify logits.

As vLLM's: the classification activation follows transformers'
``problem_type`` (regression: none; multi-label: sigmoid; otherwise softmax,
or sigmoid for a single label), or a sentence-transformers ``activation_fn``.
"""

import importlib
from abc import ABC, abstractmethod
from typing import Any, TypeVar

import torch
import torch.nn.functional as F
from torch import nn

_T = TypeVar("_T", torch.Tensor, list[torch.Tensor])


class PoolerActivation(nn.Module, ABC):
    """An activation over a batch tensor or a list of per-request tensors."""

    @staticmethod
    def wraps(module: nn.Module) -> "PoolerActivation":
        """The activation for a torch module named by a checkpoint's config."""
        if isinstance(module, nn.Identity):
            return PoolerIdentity()
        if isinstance(module, (nn.Sigmoid, nn.Softmax)):
            return PoolerClassify()
        return LambdaPoolerActivation(module)

    @abstractmethod
    def forward_chunk(self, pooled_data: torch.Tensor) -> torch.Tensor:
        """The activation of one tensor."""

    def forward(self, pooled_data: _T) -> _T:
        if isinstance(pooled_data, list):
            return [self.forward_chunk(data) for data in pooled_data]
        return self.forward_chunk(pooled_data)


class PoolerIdentity(PoolerActivation):
    """No activation (regression heads)."""

    def forward_chunk(self, pooled_data: torch.Tensor) -> torch.Tensor:
        return pooled_data


class PoolerNormalize(PoolerActivation):
    """L2 normalisation (embeddings)."""

    def forward_chunk(self, pooled_data: torch.Tensor) -> torch.Tensor:
        return F.normalize(pooled_data, p=2, dim=-1)


class PoolerMultiLabelClassify(PoolerActivation):
    """Independent sigmoids (multi-label classification)."""

    def forward_chunk(self, pooled_data: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(pooled_data)


class PoolerClassify(PoolerActivation):
    """Softmax over the labels; sigmoid when there is a single label."""

    def __init__(self, *, num_labels: int | None = None) -> None:
        super().__init__()
        self.num_labels = num_labels

    def forward_chunk(self, pooled_data: torch.Tensor) -> torch.Tensor:
        num_labels = self.num_labels or pooled_data.shape[-1]
        if num_labels < 2:
            return torch.sigmoid(pooled_data)
        return F.softmax(pooled_data, dim=-1)


class LambdaPoolerActivation(PoolerActivation):
    """Any callable as an activation."""

    def __init__(self, fn: Any) -> None:
        super().__init__()
        self.fn = fn

    def forward_chunk(self, pooled_data: torch.Tensor) -> torch.Tensor:
        return self.fn(pooled_data)


def get_act_fn(config: Any, static_num_labels: bool = True) -> PoolerActivation:
    """The classification activation a transformers config asks for."""
    num_labels = getattr(config, "num_labels", 0) if static_num_labels else None
    problem_type = getattr(config, "problem_type", "") or ""
    if problem_type == "regression":
        return PoolerIdentity()
    if problem_type == "multi_label_classification":
        return PoolerMultiLabelClassify()
    if problem_type == "single_label_classification":
        return PoolerClassify(num_labels=num_labels)
    st_config = getattr(config, "sentence_transformers", None) or {}
    name = st_config.get("activation_fn") or getattr(
        config, "sbert_ce_default_activation_function", None
    )
    if name is not None:
        if not name.startswith("torch.nn.modules."):
            raise ValueError(
                "Loading of activation functions is restricted to "
                "torch.nn.modules for security reasons"
            )
        module_name, _, class_name = name.rpartition(".")
        module = getattr(importlib.import_module(module_name), class_name)()
        return PoolerActivation.wraps(module)
    return PoolerClassify(num_labels=num_labels)


def resolve_classifier_act_fn(
    model_config: Any,
    static_num_labels: bool = True,
    act_fn: PoolerActivation | None = None,
) -> PoolerActivation:
    """``act_fn`` if given, else the one the model's transformers config asks for."""
    if act_fn is None:
        return get_act_fn(model_config.hf_config, static_num_labels)
    if not callable(act_fn):
        raise TypeError(f"Expected a callable activation function, got {type(act_fn)}")
    return act_fn
