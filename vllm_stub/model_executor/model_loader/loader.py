"""``get_model``: resolve the class, build it in the target dtype, load weights.

Checkpoint names are checked against the model's parameters before loading, so
unexpected tensors are all listed at once; parameters left unloaded are listed
after. A tied ``lm_head`` shares the embedding, so it may be absent; tensors of
layers a model does not build (a pooling model's LM head) are dropped. The
class is the registered one, converted for a pooling runner.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

from vllm_stub.config import VllmConfig, set_current_vllm_config
from vllm_stub.model_executor.model_loader.huge_pages import move_to_huge_pages
from vllm_stub.model_executor.model_loader.runner import get_model_architecture
from vllm_stub.model_executor.model_loader.weight_utils import (
    get_safetensors_files,
    safetensors_weight_names,
    safetensors_weights_iterator,
)

# Checkpoint leftovers vLLM's loaders skip (rotary caches are recomputed).
_SKIPPED_SUBSTRINGS = ("rotary_emb.",)


@contextmanager
def _default_dtype(dtype: torch.dtype) -> Iterator[None]:
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def _expected_name(checkpoint_name: str, model: nn.Module) -> str:
    """The parameter a checkpoint tensor lands in (``q_proj`` -> ``qkv_proj``)."""
    for packed, shards in getattr(model, "packed_modules_mapping", {}).items():
        for shard in shards:
            checkpoint_name = checkpoint_name.replace(f".{shard}.", f".{packed}.")
    return checkpoint_name


def _check_names(model: nn.Module, names: Iterable[str], tied: bool) -> None:
    # Imported here: models.utils imports this package (weight_utils...).
    from vllm_stub.model_executor.models.utils import PPMissingLayer

    params = {name for name, _ in model.named_parameters()}
    # layers this model does not build (another stage's, a pooling model's head)
    missing = tuple(
        f"{name}."
        for name, module in model.named_modules()
        if isinstance(module, PPMissingLayer)
    )
    # a pooling model also loads a bare backbone's checkpoint (no ``model.``)
    prefixes = ("", "model.") if getattr(model, "is_pooling_model", False) else ("",)
    # names as the model maps them; weights it says it does not use are fine
    mapper = getattr(model, "hf_to_vllm_mapper", None)
    unused = getattr(model, "is_unused_checkpoint_weight", lambda name: False)
    mapped = [
        mapper.map_name(name) if mapper is not None else name
        for name in names
        if not unused(name)
    ]
    unexpected = sorted(
        name
        for name in mapped
        if name is not None
        if not any(
            p + n in params
            for p in prefixes
            for n in (name, _expected_name(name, model))
        )
        and not any(s in name for s in _SKIPPED_SUBSTRINGS)
        and not (tied and "lm_head" in name.split("."))
        and not any((p + name).startswith(missing) for p in prefixes)
    )
    if unexpected:
        raise ValueError(
            f"checkpoint has weights the model {type(model).__name__} does not "
            f"expect: {unexpected}"
        )


class _NameTracker:
    """Iterates weights and remembers the last name, to label loading errors."""

    def __init__(self, weights: Iterable[tuple[str, torch.Tensor]]) -> None:
        self._weights = weights
        self.last_name = "<none>"

    def __iter__(self) -> Iterator[tuple[str, torch.Tensor]]:
        for name, tensor in self._weights:
            self.last_name = name
            yield name, tensor


def get_model(vllm_config: VllmConfig) -> nn.Module:
    """Build the model for ``vllm_config`` and load its checkpoint strictly."""
    model_config = vllm_config.model_config
    hf_config = model_config.hf_config
    model_cls, _ = get_model_architecture(model_config)
    files = get_safetensors_files(Path(model_config.model))
    with _default_dtype(model_config.dtype), set_current_vllm_config(vllm_config):
        model = model_cls(vllm_config=vllm_config)
    tied = bool(getattr(hf_config.get_text_config(), "tie_word_embeddings", False))
    _check_names(model, safetensors_weight_names(files), tied)
    tracker = _NameTracker(safetensors_weights_iterator(files))
    try:
        loaded = model.load_weights(tracker)
    except ValueError as exc:
        raise ValueError(
            f"loading checkpoint weight {tracker.last_name!r}: {exc}"
        ) from exc
    missing = sorted({name for name, _ in model.named_parameters()} - set(loaded))
    if missing:
        raise ValueError(
            f"weights not initialized from the checkpoint in {model_config.model!r}: "
            f"{missing}"
        )
    _process_weights_after_loading(model)
    return model.eval()


def _process_weights_after_loading(model: nn.Module) -> None:
    """Let each GEMM layer prepare its loaded weight (vLLM's hook of that name).

    Linear layers and the LM head pack theirs in place for the C++ GEMM
    kernel, so the model is held once, packed. vLLM keeps the LM head's
    plain weight, as its embedding class serves both; here the head's
    weight serves only the GEMM, and a tied embedding looks its tokens up in
    the packed layout. A weight shared with any other kind of layer (a
    model's own ``nn.Embedding`` tied by hand) stays unpacked.
    """
    # Imported here: the layers import this package (weight_utils).
    from vllm_stub.model_executor.layers.linear import LinearBase
    from vllm_stub.model_executor.layers.utils import dispatch_cpu_unquantized_gemm
    from vllm_stub.model_executor.layers.vocab_parallel_embedding import (
        ParallelLMHead,
        VocabParallelEmbedding,
    )

    # Who holds each parameter: packing in place scrambles a weight for every
    # holder, and only a plain embedding can switch to the packed layout.
    holders: dict[int, list[nn.Module]] = {}
    for module in model.modules():
        for param in module.parameters(recurse=False):
            holders.setdefault(id(param), []).append(module)
    all_packed: list[torch.Tensor] = []
    for module in model.modules():
        if not isinstance(module, (LinearBase, ParallelLMHead)):
            continue
        others = [m for m in holders.get(id(module.weight), []) if m is not module]
        if any(type(m) is not VocabParallelEmbedding for m in others):
            continue  # shared with a layer that reads it plainly: left unpacked
        packed = dispatch_cpu_unquantized_gemm(module)
        if packed is not None:
            all_packed.append(packed)
            for embedding in others:
                embedding.look_up_in(packed)
    move_to_huge_pages(all_packed)
