"""``Pooler``: the interface every pooler of a pooling model implements."""

from abc import ABC, abstractmethod
from collections.abc import Set

import torch
from torch import nn

from vllm_stub.v1.pool.metadata import PoolingMetadata

# one tensor per request (a vector, or a matrix for token-wise tasks)
PoolerOutput = list[torch.Tensor]


class Pooler(nn.Module, ABC):
    """Turns a flat batch's hidden states into one output per request."""

    @abstractmethod
    def get_supported_tasks(self) -> Set[str]:
        """The pooling tasks (``"embed"``, ``"classify"``, ...) it serves."""

    @abstractmethod
    def forward(
        self, hidden_states: torch.Tensor, pooling_metadata: PoolingMetadata
    ) -> PoolerOutput | torch.Tensor:
        """One output per request of ``pooling_metadata``."""


__all__ = ["Pooler", "PoolerOutput"]
