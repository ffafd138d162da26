"""``DispatchPooler``: one pooler per task, as vLLM's adapters build them."""

from collections.abc import Mapping, Set

import torch

from vllm_stub.model_executor.layers.pooler.abstract import Pooler
from vllm_stub.model_executor.layers.pooler.seqwise import (
    ClassifierFn,
    pooler_for_classify,
    pooler_for_embed,
)
from vllm_stub.model_executor.layers.pooler.tokwise import (
    pooler_for_token_classify,
    pooler_for_token_embed,
)
from vllm_stub.pooler_config import PoolerConfig
from vllm_stub.v1.pool.metadata import PoolingMetadata


class DispatchPooler(Pooler):
    """Sends a batch to the pooler of its task (one task per batch here)."""

    @classmethod
    def for_embedding(cls, pooler_config: PoolerConfig) -> "DispatchPooler":
        """``embed`` and ``token_embed``, as ``as_embedding_model`` declares."""
        return cls(
            {
                "token_embed": pooler_for_token_embed(pooler_config),
                "embed": pooler_for_embed(pooler_config),
            }
        )

    @classmethod
    def for_seq_cls(
        cls, pooler_config: PoolerConfig, *, classifier: ClassifierFn | None = None
    ) -> "DispatchPooler":
        """``classify`` and ``token_classify`` through ``classifier``."""
        return cls(
            {
                "token_classify": pooler_for_token_classify(
                    pooler_config, classifier=classifier
                ),
                "classify": pooler_for_classify(pooler_config, classifier=classifier),
            }
        )

    def __init__(self, poolers_by_task: Mapping[str, Pooler]) -> None:
        super().__init__()
        for task, pooler in poolers_by_task.items():
            if task not in pooler.get_supported_tasks():
                raise ValueError(
                    f"{pooler=} does not support {task=}. "
                    f"Supported tasks: {pooler.get_supported_tasks()}"
                )
        self.poolers_by_task = dict(poolers_by_task)

    def get_supported_tasks(self) -> Set[str]:
        return set(self.poolers_by_task)

    def forward(
        self, hidden_states: torch.Tensor, pooling_metadata: PoolingMetadata
    ) -> list[torch.Tensor]:
        tasks = set(pooling_metadata.tasks)
        if len(tasks) != 1:
            raise ValueError(
                f"one pooling task per batch, got {sorted(map(str, tasks))}"
            )
        task = tasks.pop()
        if task not in self.poolers_by_task:
            raise ValueError(
                f"Unsupported task: {task!r} "
                f"Supported tasks: {self.get_supported_tasks()}"
            )
        return self.poolers_by_task[task](hidden_states, pooling_metadata)
