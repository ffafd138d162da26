"""Which runner a model gets and how it is converted, as vLLM 0.33 decides.

``runner`` is ``"generate"`` or ``"pooling"``; ``convert`` turns a model of
one kind into another (``"embed"``/``"classify"``: a causal LM as a pooling
model). ``"auto"`` takes the registered class's capabilities, then the
architecture name's suffix (``*ForSequenceClassification`` is a classifier of
the ``*ForCausalLM`` registered for it, ``*Model`` an embedding model), then
``"embed"`` for any model run as a pooling model.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import TYPE_CHECKING

from torch import nn

from vllm_stub.model_executor.models.interfaces_base import (
    get_default_seq_pooling_type,
    get_default_tok_pooling_type,
    is_pooling_model,
    is_text_generation_model,
)
from vllm_stub.model_executor.models.registry import ModelRegistry
from vllm_stub.pooler_config import PoolerConfig

if TYPE_CHECKING:
    from vllm_stub.config import ModelConfig

# (suffix, (runner, convert)); earlier entries win, as in vLLM
_SUFFIX_TO_DEFAULTS: list[tuple[str, tuple[str, str]]] = [
    ("ForCausalLM", ("generate", "none")),
    ("ForConditionalGeneration", ("generate", "none")),
    ("ChatModel", ("generate", "none")),
    ("LMHeadModel", ("generate", "none")),
    ("ForTextEncoding", ("pooling", "embed")),
    ("EmbeddingModel", ("pooling", "embed")),
    ("ForSequenceClassification", ("pooling", "classify")),
    ("ForTokenClassification", ("pooling", "classify")),
    ("ClassificationModel", ("pooling", "classify")),
    ("ForRewardModeling", ("pooling", "embed")),
    ("RewardModel", ("pooling", "embed")),
    ("Model", ("pooling", "embed")),
]
RUNNERS = ("auto", "generate", "pooling")
CONVERTS = ("auto", "none", "embed", "classify")
_POOLING_CONVERTS = ("embed", "classify")


def try_match_architecture_defaults(
    arch: str, *, runner_type: str | None = None, convert_type: str | None = None
) -> tuple[str, tuple[str, str]] | None:
    """The first ``(suffix, (runner, convert))`` that ``arch`` ends with."""
    for suffix, (runner, convert) in _SUFFIX_TO_DEFAULTS:
        if (
            runner_type in (None, runner)
            and convert_type in (None, convert)
            and arch.endswith(suffix)
        ):
            return suffix, (runner, convert)
    return None


def _normalize_arch(
    arch: str, runner_type: str | None, convert_type: str | None
) -> str:
    """``arch``, or the registered architecture it converts from."""
    supported = ModelRegistry.get_supported_archs()
    if arch in supported:
        return arch
    match = try_match_architecture_defaults(
        arch, runner_type=runner_type, convert_type=convert_type
    )
    if match:
        for repl_suffix, _ in _SUFFIX_TO_DEFAULTS:
            base = arch.replace(match[0], repl_suffix)
            if base in supported:
                return base
    return arch


def _resolve(
    archs: list[str], runner_type: str | None, convert_type: str | None
) -> tuple[type[nn.Module], str]:
    normalized = [_normalize_arch(a, runner_type, convert_type) for a in archs]
    return ModelRegistry.resolve_model_cls(normalized)


def _inspect(archs: list[str]) -> type[nn.Module] | None:
    # an unresolvable architecture is get_model's error to report, not ours
    try:
        return _resolve(archs, None, None)[0]
    except ValueError:
        return None


def _default_runner(archs: list[str], cls: type[nn.Module] | None) -> str:
    for arch in archs:
        if cls is not None and arch in ModelRegistry.get_supported_archs():
            if is_pooling_model(cls):
                return "pooling"
            if is_text_generation_model(cls):
                return "generate"
        match = try_match_architecture_defaults(arch)
        if match:
            return match[1][0]
    return "generate"


def _default_convert(archs: list[str], cls: type[nn.Module] | None, runner: str) -> str:
    for arch in archs:
        if cls is not None and arch in ModelRegistry.get_supported_archs():
            if runner == "generate" and is_text_generation_model(cls):
                return "none"
            if runner == "pooling" and is_pooling_model(cls):
                return "none"
        match = try_match_architecture_defaults(arch, runner_type=runner)
        if match:
            return match[1][1]
    return "embed" if runner == "pooling" else "none"


def resolve_runner(model_config: ModelConfig) -> None:
    """Set ``runner_type``, ``convert_type`` and (pooling) ``pooler_config``.

    Raises ``ValueError`` for a runner the model cannot serve, as vLLM does.
    """
    runner, convert = model_config.runner, model_config.convert
    if runner not in RUNNERS:
        raise ValueError(f"runner must be one of {RUNNERS}, got {runner!r}")
    if convert not in CONVERTS:
        raise ValueError(f"convert must be one of {CONVERTS}, got {convert!r}")
    archs = list(getattr(model_config.hf_config, "architectures", None) or [])
    cls = _inspect(archs)
    if runner == "auto":
        runner = (
            _default_runner(archs, cls) if convert in ("auto", "none") else "pooling"
        )
    if convert == "auto":
        convert = _default_convert(archs, cls, runner)
    pooling = cls is not None and is_pooling_model(cls)
    generative = cls is not None and is_text_generation_model(cls)
    if cls is not None and runner == "generate" and not generative:
        raise ValueError(
            f"{cls.__name__} is a pooling model: it does not support "
            "runner='generate'; use LLM(..., runner='pooling') with embed() or "
            "classify()"
        )
    if cls is not None and runner == "pooling" and not pooling:
        if convert not in _POOLING_CONVERTS:
            raise ValueError(
                f"{cls.__name__} has no pooling form: it does not support "
                f"runner='pooling' with convert={convert!r}; pass convert='embed' "
                "or convert='classify' to adapt it into a pooling model"
            )
    model_config.runner_type, model_config.convert_type = runner, convert
    if runner == "pooling":
        model_config.pooler_config = _resolved_pooler_config(model_config, cls, convert)


def _resolved_pooler_config(
    model_config: ModelConfig, cls: type[nn.Module] | None, convert: str
) -> PoolerConfig:
    config = model_config.pooler_config or PoolerConfig()
    if cls is not None:
        cls = convert_model_cls(cls, convert)
    return dataclasses.replace(
        config,
        seq_pooling_type=config.seq_pooling_type or get_default_seq_pooling_type(cls),
        tok_pooling_type=config.tok_pooling_type or get_default_tok_pooling_type(cls),
    )


@functools.cache  # one converted class per class, so both lookups agree
def convert_model_cls(cls: type[nn.Module], convert_type: str) -> type[nn.Module]:
    """``cls`` converted for ``convert_type`` (``"none"``: unchanged)."""
    from vllm_stub.model_executor.models.adapters import (
        as_embedding_model,
        as_seq_cls_model,
    )

    if convert_type == "embed":
        return as_embedding_model(cls)
    if convert_type == "classify":
        return as_seq_cls_model(cls)
    return cls


def get_model_architecture(model_config: ModelConfig) -> tuple[type[nn.Module], str]:
    """The class to build for ``model_config`` (converted) and its architecture."""
    archs = list(getattr(model_config.hf_config, "architectures", None) or [])
    cls, arch = _resolve(archs, model_config.runner_type, model_config.convert_type)
    return convert_model_cls(cls, model_config.convert_type), arch
