"""``WeightsMapper``: checkpoint tensor names to model parameter names (vLLM 0.33).

A mapping to ``None`` drops the tensor. ``orig_to_new_stacked`` renames a
tensor into a fused parameter and tags it with its shard
(``tensor.shard_id``), which the fused layer's ``load_weights`` reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from re import Pattern
from typing import Any

import torch

ShardId = str | int | tuple[int, ...]
ShardIds = ShardId | list[ShardId]


@dataclass
class WeightsMapper:
    """Renames, applied in order: renaming, regex, substr, stacked, prefix, suffix."""

    orig_to_new_renaming: list[Any] = field(default_factory=list)
    orig_to_new_regex: Mapping[Pattern[str], str | None] = field(default_factory=dict)
    orig_to_new_substr: Mapping[str, str | None] = field(default_factory=dict)
    orig_to_new_stacked: Mapping[str, tuple[str, ShardIds]] = field(
        default_factory=dict
    )
    orig_to_new_prefix: Mapping[str, str | None] = field(default_factory=dict)
    orig_to_new_suffix: Mapping[str, str | None] = field(default_factory=dict)

    def __or__(self, other: WeightsMapper) -> WeightsMapper:
        """Both mappers' rules; ``other``'s win where a key is in both."""
        return WeightsMapper(
            [*self.orig_to_new_renaming, *other.orig_to_new_renaming],
            {**self.orig_to_new_regex, **other.orig_to_new_regex},
            {**self.orig_to_new_substr, **other.orig_to_new_substr},
            {**self.orig_to_new_stacked, **other.orig_to_new_stacked},
            {**self.orig_to_new_prefix, **other.orig_to_new_prefix},
            {**self.orig_to_new_suffix, **other.orig_to_new_suffix},
        )

    def map_name(self, key: str) -> str | None:
        """The parameter name for checkpoint name ``key``; ``None``: drop it."""
        mapped = self._map_name_with_shard(key)
        return None if mapped is None else mapped[0]

    def _map_name_with_shard(self, key: str) -> tuple[str, ShardIds | None] | None:
        for renaming in self.orig_to_new_renaming:
            key, _ = renaming.rename_source_key(key)
        for pattern, new in self.orig_to_new_regex.items():
            if pattern.search(key):
                if new is None:
                    return None
                key = pattern.sub(new, key)
        for substr, new in self.orig_to_new_substr.items():
            if substr in key:
                if new is None:
                    return None
                key = key.replace(substr, new, 1)
        shard_id: ShardIds | None = None
        for substr, (new, new_shard_id) in self.orig_to_new_stacked.items():
            if substr in key:
                key, shard_id = key.replace(substr, new, 1), new_shard_id
        for prefix, new in self.orig_to_new_prefix.items():
            if key.startswith(prefix):
                if new is None:
                    return None
                key = key.replace(prefix, new, 1)
        for suffix, new in self.orig_to_new_suffix.items():
            if key.endswith(suffix):
                if new is None:
                    return None
                key = new.join(key.rsplit(suffix, 1))
        return key, shard_id

    def apply(
        self, weights: Iterable[tuple[str, torch.Tensor]]
    ) -> Iterator[tuple[str, torch.Tensor]]:
        """The weights renamed, dropped ones left out, stacked ones tagged."""
        for name, data in weights:
            mapped = self._map_name_with_shard(name)
            if mapped is None:
                continue
            new_name, shard_id = mapped
            if shard_id is None:
                yield new_name, data
                continue
            shard_ids = shard_id if isinstance(shard_id, list) else [shard_id]
            for i, one in enumerate(shard_ids):
                # each shard needs its own tensor object to carry its own id
                shard_data = data if i == 0 else data.detach()
                shard_data.shard_id = one
                yield new_name, shard_data

    def apply_list(self, values: list[str]) -> list[str]:
        """The names mapped, dropped ones left out."""
        return [new for name in values if (new := self.map_name(name)) is not None]

    def apply_dict(self, values: dict[str, Any]) -> dict[str, Any]:
        """The dict with its keys mapped, dropped ones left out."""
        return {
            new: value
            for name, value in values.items()
            if (new := self.map_name(name)) is not None
        }
