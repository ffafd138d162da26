"""Parallel state: this engine always runs one rank (TP = PP = 1)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GroupCoordinator:
    """The pipeline-parallel group as model code sees it: a single rank."""

    rank_in_group: int = 0
    world_size: int = 1

    @property
    def is_first_rank(self) -> bool:
        """Whether this rank holds the first pipeline stage (always)."""
        return self.rank_in_group == 0

    @property
    def is_last_rank(self) -> bool:
        """Whether this rank holds the last pipeline stage (always)."""
        return self.rank_in_group == self.world_size - 1


_PP_GROUP = GroupCoordinator()


def get_tensor_model_parallel_world_size() -> int:
    """Number of tensor-parallel ranks: 1."""
    return 1


def get_tensor_model_parallel_rank() -> int:
    """This process's tensor-parallel rank: 0."""
    return 0


def get_pp_group() -> GroupCoordinator:
    """The pipeline-parallel group (one rank, first and last)."""
    return _PP_GROUP
