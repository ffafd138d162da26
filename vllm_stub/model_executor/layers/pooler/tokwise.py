"""Token-wise pooling: one row per prompt token (``token_embed``, ``token_classify``).

``ALL`` keeps every token of each sequence; the heads then work row by row as
the sequence-wise ones do (normalise, or classify and activate).
"""

from collections.abc import Callable, Set

import torch
from torch import nn

from vllm_stub.model_executor.layers.pooler.abstract import Pooler
from vllm_stub.model_executor.layers.pooler.activations import PoolerActivation
from vllm_stub.model_executor.layers.pooler.seqwise import (
    ClassifierFn,
    classifier_head,
    embedding_head,
)
from vllm_stub.pooler_config import PoolerConfig
from vllm_stub.v1.pool.metadata import PoolingMetadata


class AllPool(nn.Module):
    """Each sequence's rows, one tensor ``[len, hidden]`` per request."""

    def get_supported_tasks(self) -> Set[str]:
        return {"token_embed", "token_classify"}

    def forward(
        self, hidden_states: torch.Tensor, meta: PoolingMetadata
    ) -> list[torch.Tensor]:
        return list(torch.split(hidden_states, meta.prompt_lens.tolist()))


def get_tok_pooling_method(pooling_type: str) -> AllPool:
    """The method for ``"ALL"`` (``"STEP"`` needs step tokens, not supported)."""
    if pooling_type != "ALL":
        raise NotImplementedError(f"Unsupported token pooling type: {pooling_type!r}")
    return AllPool()


class _PerRequest(nn.Module):
    """A sequence-wise head applied to each request's token rows on their own."""

    def __init__(self, head: nn.Module, task: str) -> None:
        super().__init__()
        self.head = head
        self.task = task

    def get_supported_tasks(self) -> Set[str]:
        return {self.task}

    def forward(
        self, pooled: list[torch.Tensor], meta: PoolingMetadata
    ) -> list[torch.Tensor]:
        outputs = []
        for i, rows in enumerate(pooled):
            one = PoolingMetadata(
                torch.tensor([len(rows)]),
                meta.prompt_token_ids[i : i + 1],
                [meta.pooling_params[i]] * len(rows),
            )
            outputs.append(torch.stack(self.head(rows, one)))
        return outputs


class TokenPooler(Pooler):
    """A token pooling method followed by a per-token head."""

    def __init__(self, pooling: Callable, head: _PerRequest) -> None:
        super().__init__()
        self.pooling = pooling
        self.head = head

    def get_supported_tasks(self) -> Set[str]:
        return self.head.get_supported_tasks()

    def forward(
        self, hidden_states: torch.Tensor, pooling_metadata: PoolingMetadata
    ) -> list[torch.Tensor]:
        return self.head(
            self.pooling(hidden_states, pooling_metadata), pooling_metadata
        )


def pooler_for_token_embed(pooler_config: PoolerConfig) -> TokenPooler:
    """The ``token_embed`` pooler: every token, normalised."""
    pooling = get_tok_pooling_method(pooler_config.get_tok_pooling_type())
    return TokenPooler(pooling, _PerRequest(embedding_head(), "token_embed"))


def pooler_for_token_classify(
    pooler_config: PoolerConfig,
    *,
    pooling: Callable | None = None,
    classifier: ClassifierFn | None = None,
    act_fn: PoolerActivation | None = None,
) -> TokenPooler:
    """The ``token_classify`` pooler: every token classified and activated."""
    if pooling is None:
        pooling = get_tok_pooling_method(pooler_config.get_tok_pooling_type())
    head = classifier_head(pooler_config, classifier, act_fn)
    return TokenPooler(pooling, _PerRequest(head, "token_classify"))
