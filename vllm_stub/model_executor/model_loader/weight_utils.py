"""Finding checkpoint files, streaming their tensors, and the default loader."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import torch
from safetensors import safe_open

_SINGLE_FILE = "model.safetensors"
_INDEX_FILE = "model.safetensors.index.json"


def check_shape(param: torch.Tensor, loaded_weight: torch.Tensor, what: str) -> None:
    """Raise ``ValueError`` naming both shapes when a tensor does not fit."""
    if tuple(param.shape) != tuple(loaded_weight.shape):
        raise ValueError(
            f"shape mismatch for {what}: the model expects {tuple(param.shape)}, "
            f"the checkpoint has {tuple(loaded_weight.shape)}"
        )


def default_weight_loader(param: torch.Tensor, loaded_weight: torch.Tensor) -> None:
    """Copy a checkpoint tensor into a parameter of the same shape."""
    check_shape(param, loaded_weight, "parameter")
    param.data.copy_(loaded_weight)


def get_safetensors_files(model_dir: Path) -> list[Path]:
    """The checkpoint's ``*.safetensors`` files: one file or the index's shards."""
    index = model_dir / _INDEX_FILE
    if index.is_file():
        weight_map = json.loads(index.read_text())["weight_map"]
        return [model_dir / name for name in sorted(set(weight_map.values()))]
    single = model_dir / _SINGLE_FILE
    if single.is_file():
        return [single]
    raise FileNotFoundError(
        f"no {_SINGLE_FILE} or {_INDEX_FILE} in model folder {str(model_dir)!r}"
    )


def safetensors_weight_names(files: list[Path]) -> list[str]:
    """Every tensor name in the files, read from their headers only."""
    names: list[str] = []
    for file in files:
        with safe_open(file, framework="pt") as f:
            names.extend(f.keys())
    return names


def safetensors_weights_iterator(
    files: list[Path],
) -> Iterator[tuple[str, torch.Tensor]]:
    """Yield ``(name, tensor)`` one tensor at a time, so peak memory stays low.

    Each tensor is read through its own ``safe_open``: the file is memory-
    mapped while open, and every page read stays in the process's resident
    set until it is closed, so one handle for the whole file would hold the
    checkpoint in memory beside the model's converted copy (a 270 MB bf16
    file on top of 540 MB of float32 parameters, for SmolLM2-135M).
    """
    for file in files:
        for name in safetensors_weight_names([file]):
            with safe_open(file, framework="pt") as f:
                tensor = f.get_tensor(name)
            yield name, tensor
