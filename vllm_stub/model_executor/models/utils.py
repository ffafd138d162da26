"""Helpers model files use: prefixes, layer lists, pipeline stubs, weight loading.

Names and behaviour follow vLLM 0.33's ``models/utils.py``; pipeline helpers
see one stage, which holds every layer.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch
from torch import nn

from vllm_stub.distributed import get_pp_group
from vllm_stub.model_executor.layers.vocab_parallel_embedding import (
    VocabParallelEmbedding,
)
from vllm_stub.model_executor.model_loader.weight_utils import default_weight_loader
from vllm_stub.model_executor.model_loader.weights_mapper import WeightsMapper
from vllm_stub.sequence import IntermediateTensors

__all__ = [
    "AutoWeightsLoader",
    "PPMissingLayer",
    "WeightsMapper",
    "extract_layer_index",
    "is_pp_missing_parameter",
    "make_empty_intermediate_tensors_factory",
    "make_layers",
    "maybe_prefix",
    "spec_decode_needs_target_embed",
]

WeightsIterable = Iterable[tuple[str, torch.Tensor]]


def maybe_prefix(prefix: str, name: str) -> str:
    """``prefix.name``, or ``name`` when the prefix is empty."""
    return name if not prefix else f"{prefix}.{name}"


def get_layer_index(feature_layer_index: int, num_hidden_layers: int) -> int:
    """Encoder layers needed to reach the (signed) feature layer, as vLLM's."""
    if feature_layer_index < 0:
        return num_hidden_layers + feature_layer_index + 1
    return feature_layer_index


def extract_layer_index(layer_name: str, num_attn_module: int = 1) -> int:
    """The layer number in a module name (``"model.layers.3.self_attn"`` -> 3)."""
    numbers = [int(part) for part in layer_name.split(".") if part.isdigit()]
    if num_attn_module == 1 or "attn" not in layer_name:
        if len(numbers) != 1:
            raise ValueError(f"layer name {layer_name} should contain one integer")
        return numbers[0]
    if len(numbers) == 2:
        return numbers[0] * num_attn_module + numbers[1]
    return numbers[0]


class PPMissingLayer(nn.Identity):
    """Placeholder for a layer that lives on another pipeline stage."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The first argument, unchanged."""
        return args[0] if args else next(iter(kwargs.values()))


def spec_decode_needs_target_embed(
    vllm_config: Any, *, include_mtp: bool = False
) -> bool:
    """Whether the last stage needs the target's embedding for a drafter (never:
    one stage, no speculative decoding)."""
    return False


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
        layer_fn(prefix=f"{prefix}.{i}") if start <= i < end else PPMissingLayer()
        for i in range(num_hidden_layers)
    )
    return start, end, layers


def is_pp_missing_parameter(name: str, model: nn.Module) -> bool:
    """Whether ``name`` belongs to a layer held by another pipeline stage."""
    return isinstance(model, PPMissingLayer) or any(
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


def _tied_embedding_aliases(module: nn.Module) -> dict[str, str]:
    """Each tied embedding parameter's later names -> the first name it has."""
    first: dict[int, str] = {}
    aliases: dict[str, str] = {}
    for prefix, sub in module.named_modules(remove_duplicate=False):
        if isinstance(sub, VocabParallelEmbedding):
            for name, param in sub.named_parameters(remove_duplicate=False):
                qualname = maybe_prefix(prefix, name)
                if first.setdefault(id(param), qualname) != qualname:
                    aliases[qualname] = first[id(param)]
    return aliases


class AutoWeightsLoader:
    """Route checkpoint tensors to child modules by their first name component.

    A child with its own ``load_weights`` gets its whole group (that is how a
    ``...ForCausalLM`` delegates ``model.*`` to its ``...Model``, and a fused
    linear takes its tagged shards); parameters use their ``weight_loader``.
    A tied embedding is loaded under its first name only (``lm_head.weight``
    is skipped when it is ``model.embed_tokens.weight``). Returns the fully
    qualified names it loaded.
    """

    # Rotary caches some checkpoints carry; they are recomputed, never loaded.
    REMOVE_UNUSED_ROTARY_EMBEDS_MAPPER = WeightsMapper(
        orig_to_new_substr={
            "rotary_pos_emb.inv_freq": None,
            "rotary_emb.inv_freq": None,
            "rotary_emb.cos_cached": None,
            "rotary_emb.sin_cached": None,
        }
    )

    def __init__(
        self,
        module: nn.Module,
        *,
        ignore_unexpected_prefixes: list[str] | None = None,
        ignore_unexpected_suffixes: list[str] | None = None,
    ) -> None:
        self.module = module
        self.ignore_unexpected_prefixes = ignore_unexpected_prefixes or []
        self.ignore_unexpected_suffixes = ignore_unexpected_suffixes or []
        self.aliased_params = _tied_embedding_aliases(module)

    def _can_ignore_unexpected(self, qualname: str) -> bool:
        return any(qualname.startswith(p) for p in self.ignore_unexpected_prefixes) or (
            any(qualname.endswith(s) for s in self.ignore_unexpected_suffixes)
        )

    def load_weights(
        self, weights: WeightsIterable, *, mapper: WeightsMapper | None = None
    ) -> set[str]:
        """Load ``(name, tensor)`` pairs into the module; returns the loaded names."""
        # unexpected biases are ignored, as vLLM does (GPTQ checkpoints have them)
        self.ignore_unexpected_suffixes.append(".bias")
        mapper = (mapper or WeightsMapper()) | self.REMOVE_UNUSED_ROTARY_EMBEDS_MAPPER
        kept = (
            (name, w)
            for name, w in mapper.apply(weights)
            if name not in self.aliased_params
        )
        return set(self._load_module("", self.module, kept))

    def _load_module(
        self, base_prefix: str, module: nn.Module, weights: WeightsIterable
    ) -> Iterator[str]:
        if isinstance(module, PPMissingLayer):
            return
        load_weights = getattr(module, "load_weights", None)
        if module is not self.module and callable(load_weights):
            for name in load_weights(weights):
                yield maybe_prefix(base_prefix, name)
            return
        children = dict(module.named_children())
        params: dict[str, torch.Tensor] = dict(module.named_parameters(recurse=False))
        for name, buffer in module.named_buffers(recurse=False):
            if name not in module._non_persistent_buffers_set:
                params.setdefault(name, buffer)
        groups = itertools.groupby(weights, key=lambda item: item[0].split(".", 1)[0])
        for head, group in groups:
            prefix = maybe_prefix(base_prefix, head)
            if head in children:
                rest = ((name.partition(".")[2], w) for name, w in group)
                yield from self._load_module(prefix, children[head], rest)
            elif head in params:
                yield from self._load_param(prefix, params[head], group)
            elif not (
                self._can_ignore_unexpected(prefix + ".")
                or self._can_ignore_unexpected(prefix)
            ):
                raise ValueError(
                    f"There is no module or parameter named {prefix!r} "
                    f"in {type(self.module).__name__}"
                )

    def _load_param(
        self, prefix: str, param: torch.Tensor, weights: WeightsIterable
    ) -> Iterator[str]:
        head = prefix.rpartition(".")[2]
        for name, weight in weights:
            if name != head:
                qualname = maybe_prefix(prefix, name.partition(".")[2])
                if self._can_ignore_unexpected(qualname):
                    continue
                raise ValueError(f"Attempted to load nested weight {qualname!r}")
            loader = getattr(param, "weight_loader", default_weight_loader)
            loader(param, weight)
            yield prefix
