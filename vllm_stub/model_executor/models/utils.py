"""Helpers model files use: prefixes, layer lists, pipeline stubs, weight loading."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator

import torch
from torch import nn

from vllm_stub.distributed import get_pp_group
from vllm_stub.model_executor.model_loader.weight_utils import default_weight_loader
from vllm_stub.sequence import IntermediateTensors

WeightsIterable = Iterable[tuple[str, torch.Tensor]]

# Rotary caches some checkpoints carry; they are recomputed, never loaded.
_ROTARY_LEFTOVERS = (
    "rotary_emb.inv_freq",
    "rotary_emb.cos_cached",
    "rotary_emb.sin_cached",
)


def maybe_prefix(prefix: str, name: str) -> str:
    """``prefix.name``, or ``name`` when the prefix is empty."""
    return name if not prefix else f"{prefix}.{name}"


class PPMissingLayer(nn.Identity):
    """Placeholder for a layer that lives on another pipeline stage."""


def make_layers(
    num_hidden_layers: int,
    layer_fn: Callable[[str], nn.Module],
    prefix: str,
) -> tuple[int, int, nn.ModuleList]:
    """Build this stage's layers; returns ``(start, end, layers)`` (all of them)."""
    pp_group = get_pp_group()
    per_stage = num_hidden_layers // pp_group.world_size
    start = pp_group.rank_in_group * per_stage
    end = num_hidden_layers if pp_group.is_last_rank else start + per_stage
    layers = nn.ModuleList(
        layer_fn(f"{prefix}.{i}") if start <= i < end else PPMissingLayer()
        for i in range(num_hidden_layers)
    )
    return start, end, layers


def is_pp_missing_parameter(name: str, model: nn.Module) -> bool:
    """Whether ``name`` belongs to a layer held by another pipeline stage."""
    return any(
        isinstance(module, PPMissingLayer) and name.startswith(f"{module_name}.")
        for module_name, module in model.named_modules()
    )


def make_empty_intermediate_tensors_factory(
    keys: list[str], hidden_size: int
) -> Callable[[int, torch.dtype, torch.device], IntermediateTensors]:
    """A function making zero ``IntermediateTensors`` for a batch size."""

    def make_empty_intermediate_tensors(
        batch_size: int, dtype: torch.dtype, device: torch.device
    ) -> IntermediateTensors:
        return IntermediateTensors(
            {
                key: torch.zeros(batch_size, hidden_size, dtype=dtype, device=device)
                for key in keys
            }
        )

    return make_empty_intermediate_tensors


class AutoWeightsLoader:
    """Route checkpoint tensors to child modules by their first name component.

    A child with its own ``load_weights`` gets its whole group (that is how a
    ``...ForCausalLM`` delegates ``model.*`` to its ``...Model``); parameters use
    their ``weight_loader``. Returns the fully qualified names it loaded.
    """

    def __init__(
        self,
        module: nn.Module,
        *,
        skip_prefixes: list[str] | None = None,
        skip_substrs: list[str] | None = None,
        ignore_unexpected_prefixes: list[str] | None = None,
    ) -> None:
        self.module = module
        self.skip_prefixes = skip_prefixes or []
        self.skip_substrs = [*(skip_substrs or []), *_ROTARY_LEFTOVERS]
        self.ignore_unexpected_prefixes = ignore_unexpected_prefixes or []

    def _can_skip(self, name: str) -> bool:
        return any(name.startswith(p) for p in self.skip_prefixes) or any(
            s in name for s in self.skip_substrs
        )

    def load_weights(self, weights: WeightsIterable) -> set[str]:
        """Load ``(name, tensor)`` pairs into the module; returns the loaded names."""
        kept = ((name, w) for name, w in weights if not self._can_skip(name))
        return set(self._load_module("", self.module, kept))

    def _load_module(
        self, base_prefix: str, module: nn.Module, weights: WeightsIterable
    ) -> Iterator[str]:
        if isinstance(module, PPMissingLayer):
            return
        if module is not self.module and hasattr(module, "load_weights"):
            for name in module.load_weights(weights):
                yield maybe_prefix(base_prefix, name)
            return
        children = dict(module.named_children())
        params = dict(module.named_parameters(recurse=False))
        groups = itertools.groupby(weights, key=lambda item: item[0].split(".", 1)[0])
        for head, group in groups:
            prefix = maybe_prefix(base_prefix, head)
            if head in children:
                rest = ((name.split(".", 1)[1], w) for name, w in group)
                yield from self._load_module(prefix, children[head], rest)
            elif head in params:
                for name, weight in group:
                    if name != head:
                        raise ValueError(f"Attempted to load nested weight {prefix!r}")
                    param = params[head]
                    loader = getattr(param, "weight_loader", default_weight_loader)
                    loader(param, weight)
                    yield prefix
            elif not any(prefix.startswith(p) for p in self.ignore_unexpected_prefixes):
                raise ValueError(
                    f"There is no module or parameter named {prefix!r} "
                    f"in {type(self.module).__name__}"
                )
