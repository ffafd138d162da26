"""Sequence-wise pooling: one vector per request (``embed``, ``classify``).

A pooler is a pooling method (``CLS``, ``LAST`` or ``MEAN`` over each
sequence's rows of the flat batch) followed by a head: the embedding head
truncates (``dimensions``) and L2-normalises; the classifier head applies the
classifier (e.g. a ``score`` linear), the optional logit calibration and the
classification activation. Per-request ``use_activation`` switches either off.
"""

from collections.abc import Callable, Set

import torch
from torch import nn

from vllm_stub.config import get_current_vllm_config
from vllm_stub.model_executor.layers.pooler.abstract import Pooler
from vllm_stub.model_executor.layers.pooler.activations import (
    PoolerActivation,
    PoolerNormalize,
    resolve_classifier_act_fn,
)
from vllm_stub.pooler_config import PoolerConfig
from vllm_stub.v1.pool.metadata import PoolingMetadata

ClassifierFn = Callable[[torch.Tensor], torch.Tensor]


class SequencePoolingMethod(nn.Module):
    """Picks or aggregates each sequence's rows: ``[num_requests, hidden]``."""

    def get_supported_tasks(self) -> Set[str]:
        return {"embed", "classify"}


class CLSPool(SequencePoolingMethod):
    """Each sequence's first token."""

    def forward(
        self, hidden_states: torch.Tensor, meta: PoolingMetadata
    ) -> torch.Tensor:
        return hidden_states[meta.get_pooling_cursor().first_token_indices_gpu]


class LastPool(SequencePoolingMethod):
    """Each sequence's last token (causal models: the one that saw everything)."""

    def forward(
        self, hidden_states: torch.Tensor, meta: PoolingMetadata
    ) -> torch.Tensor:
        return hidden_states[meta.get_pooling_cursor().last_token_indices_gpu]


class MeanPool(SequencePoolingMethod):
    """The mean of each sequence's tokens, accumulated in float32."""

    def forward(
        self, hidden_states: torch.Tensor, meta: PoolingMetadata
    ) -> torch.Tensor:
        lens = meta.prompt_lens
        segments = torch.repeat_interleave(torch.arange(len(lens)), lens)
        sums = torch.zeros(len(lens), hidden_states.shape[-1], dtype=torch.float32)
        sums.index_add_(0, segments, hidden_states.float())
        return sums / lens.unsqueeze(1)


def get_seq_pooling_method(pooling_type: str) -> SequencePoolingMethod:
    """The method for ``"CLS"``, ``"LAST"`` or ``"MEAN"``."""
    methods = {"CLS": CLSPool, "LAST": LastPool, "MEAN": MeanPool}
    if pooling_type not in methods:
        raise NotImplementedError(f"Unknown sequence pooling type: {pooling_type!r}")
    return methods[pooling_type]()


def _activate(
    data: torch.Tensor, activation: Callable | None, meta: PoolingMetadata
) -> list[torch.Tensor]:
    """Per-request rows, each activated unless its params switch it off."""
    return [
        activation(row) if activation is not None and params.use_activation else row
        for row, params in zip(data, meta.pooling_params, strict=True)
    ]


class EmbeddingPoolerHead(nn.Module):
    """Truncates to ``dimensions`` (if asked) and normalises."""

    def __init__(
        self,
        projector: Callable | None = None,
        head_dtype: torch.dtype | None = None,
        activation: Callable | None = None,
    ) -> None:
        super().__init__()
        self.projector = projector
        self.head_dtype = head_dtype
        self.activation = activation

    def get_supported_tasks(self) -> Set[str]:
        return {"embed"}

    def forward(
        self, pooled: torch.Tensor, meta: PoolingMetadata
    ) -> list[torch.Tensor]:
        if self.head_dtype is not None:
            pooled = pooled.to(self.head_dtype)
        if self.projector is not None:
            pooled = self.projector(pooled)
        rows = [
            row if params.dimensions is None else row[: params.dimensions]
            for row, params in zip(pooled, meta.pooling_params, strict=True)
        ]
        return _activate(rows, self.activation, meta)


class ClassifierPoolerHead(nn.Module):
    """Classifier, ``(logit - mean) / sigma`` calibration, then the activation."""

    def __init__(
        self,
        classifier: ClassifierFn | None = None,
        logit_mean: float | None = None,
        logit_sigma: float | None = None,
        head_dtype: torch.dtype | None = None,
        activation: Callable | None = None,
    ) -> None:
        super().__init__()
        self.classifier = classifier
        self.logit_mean = logit_mean
        self.logit_sigma = logit_sigma
        self.head_dtype = head_dtype
        self.activation = activation

    def get_supported_tasks(self) -> Set[str]:
        return {"classify"}

    def forward(
        self, pooled: torch.Tensor, meta: PoolingMetadata
    ) -> list[torch.Tensor]:
        if self.head_dtype is not None:
            pooled = pooled.to(self.head_dtype)
        logits = pooled if self.classifier is None else self.classifier(pooled)
        if self.logit_mean is not None:
            logits = logits - self.logit_mean
        if self.logit_sigma is not None:
            logits = logits / self.logit_sigma
        return _activate(logits, self.activation, meta)


class SequencePooler(Pooler):
    """A pooling method followed by a head."""

    def __init__(self, pooling: Callable, head: Callable) -> None:
        super().__init__()
        self.pooling = pooling
        self.head = head

    def get_supported_tasks(self) -> Set[str]:
        tasks = {"embed", "classify"}
        for part in (self.pooling, self.head):
            if hasattr(part, "get_supported_tasks"):
                tasks &= part.get_supported_tasks()
        return tasks

    def forward(
        self, hidden_states: torch.Tensor, pooling_metadata: PoolingMetadata
    ) -> list[torch.Tensor]:
        pooled = self.pooling(hidden_states, pooling_metadata)
        return self.head(pooled, pooling_metadata)


def embedding_head() -> EmbeddingPoolerHead:
    """The normalising head, in the current model's head dtype."""
    model_config = get_current_vllm_config().model_config
    return EmbeddingPoolerHead(
        head_dtype=model_config.head_dtype, activation=PoolerNormalize()
    )


def classifier_head(
    pooler_config: PoolerConfig,
    classifier: ClassifierFn | None,
    act_fn: PoolerActivation | None,
) -> ClassifierPoolerHead:
    """The classifying head, with the activation the model's config asks for."""
    model_config = get_current_vllm_config().model_config
    return ClassifierPoolerHead(
        classifier=classifier,
        logit_mean=pooler_config.logit_mean,
        logit_sigma=pooler_config.logit_sigma,
        head_dtype=model_config.head_dtype,
        activation=resolve_classifier_act_fn(
            model_config, static_num_labels=False, act_fn=act_fn
        ),
    )


def pooler_for_embed(pooler_config: PoolerConfig) -> SequencePooler:
    """The ``embed`` pooler: the configured pooling, normalised."""
    pooling = get_seq_pooling_method(pooler_config.get_seq_pooling_type())
    return SequencePooler(pooling=pooling, head=embedding_head())


def pooler_for_classify(
    pooler_config: PoolerConfig,
    *,
    pooling: Callable | None = None,
    classifier: ClassifierFn | None = None,
    act_fn: PoolerActivation | None = None,
) -> SequencePooler:
    """The ``classify`` pooler: pooling, ``classifier``, calibration, activation."""
    if pooling is None:
        pooling = get_seq_pooling_method(pooler_config.get_seq_pooling_type())
    head = classifier_head(pooler_config, classifier, act_fn)
    return SequencePooler(pooling=pooling, head=head)
