"""Engine configuration objects, named and nested as in vLLM.

Model code reads ``vllm_config.model_config.hf_config``, ``vllm_config.cache_config``
and ``vllm_config.quant_config`` (always ``None``: no quantization here), and
vLLM 0.33's files also ``vllm_config.speculative_config`` (``None``: no
speculative decoding here).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import PretrainedConfig

from vllm_stub.pooler_config import PoolerConfig
from vllm_stub.transformers_utils.config import get_config

__all__ = ["CacheConfig", "ModelConfig", "PoolerConfig", "VllmConfig"]

_DTYPES = {
    "float32": torch.float32,
    "float": torch.float32,
    "bfloat16": torch.bfloat16,
    "float16": torch.float16,
    "half": torch.float16,
}


def _resolve_dtype(dtype: str | torch.dtype, hf_config: PretrainedConfig) -> Any:
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype == "auto":
        # transformers 5 calls the field `dtype`, 4.x `torch_dtype`
        found = getattr(hf_config, "dtype", None) or getattr(
            hf_config, "torch_dtype", None
        )
        if found is None:
            return torch.float32
        dtype = str(found).removeprefix("torch.")
    if dtype not in _DTYPES:
        raise ValueError(
            f"unsupported dtype {dtype!r}; use 'auto' or one of {sorted(_DTYPES)}"
        )
    return _DTYPES[dtype]


@dataclass
class ModelConfig:
    """The model folder, its transformers config, dtype and context length.

    ``dtype="auto"`` takes the config's dtype (float32 when it names none);
    ``max_model_len=None`` takes ``max_position_embeddings``; ``tokenizer=None``
    takes the model folder; ``trust_remote_code`` lets transformers run the
    folder's own config and tokenizer code. ``runner`` (``"auto"``,
    ``"generate"``, ``"pooling"``) and ``convert`` (``"auto"``, ``"none"``,
    ``"embed"``, ``"classify"``) resolve to ``runner_type`` and
    ``convert_type`` as vLLM resolves them; a pooling runner gets a
    ``pooler_config`` with the model's default pooling types filled in.
    ``enforce_eager`` runs every step eagerly, as in vLLM; otherwise a float32
    model's decode steps are traced and replayed (``compilation``).
    """

    model: str
    dtype: str | torch.dtype = "auto"
    seed: int = 0
    max_model_len: int | None = None
    tokenizer: str | None = None
    trust_remote_code: bool = False
    runner: str = "auto"
    convert: str = "auto"
    pooler_config: PoolerConfig | None = None
    enforce_eager: bool = False
    hf_config: PretrainedConfig = field(init=False)
    runner_type: str = field(init=False)
    convert_type: str = field(init=False)

    def __post_init__(self) -> None:
        self.tokenizer = str(self.tokenizer or self.model)
        self.hf_config = get_config(self.model, self.trust_remote_code)
        self.dtype = _resolve_dtype(self.dtype, self.hf_config)
        limit = getattr(self.hf_config, "max_position_embeddings", None)
        if self.max_model_len is None:
            self.max_model_len = limit or 2048
        elif self.max_model_len < 1:
            raise ValueError(f"max_model_len must be >= 1, got {self.max_model_len}")
        elif limit is not None and self.max_model_len > limit:
            raise ValueError(
                f"max_model_len ({self.max_model_len}) is larger than the model's "
                f"max_position_embeddings ({limit})"
            )
        # imported here: resolving the runner inspects the model class
        from vllm_stub.model_executor.model_loader.runner import resolve_runner

        resolve_runner(self)

    @property
    def head_dtype(self) -> torch.dtype:
        """The dtype of pooling heads: float32, as vLLM's default for pooling."""
        return torch.float32 if self.runner_type == "pooling" else self.dtype

    @property
    def hf_text_config(self) -> PretrainedConfig:
        """The language model's config (the whole config for a text model)."""
        return self.hf_config.get_text_config()

    def get_sliding_window(self) -> int | None:
        """The model's sliding window; ``None`` (or 0 in a config) for none."""
        return getattr(self.hf_text_config, "sliding_window", None) or None


@dataclass
class CacheConfig:
    """KV-cache settings: the cache uses the model dtype (``"auto"``).

    ``sliding_window`` is the model's (``VllmConfig`` fills it in, as vLLM's
    engine arguments do); attention layers fall back to it.
    """

    cache_dtype: str = "auto"
    sliding_window: int | None = None


@dataclass
class SchedulerConfig:
    """How many sequences may run in one batch."""

    max_num_seqs: int = 256

    def __post_init__(self) -> None:
        if self.max_num_seqs < 1:
            raise ValueError(f"max_num_seqs must be >= 1, got {self.max_num_seqs}")


@dataclass
class VllmConfig:
    """Everything a model and the engine are configured with."""

    model_config: ModelConfig
    cache_config: CacheConfig = field(default_factory=CacheConfig)
    scheduler_config: SchedulerConfig = field(default_factory=SchedulerConfig)
    quant_config: None = None
    speculative_config: None = None

    def __post_init__(self) -> None:
        if self.cache_config.sliding_window is None:
            self.cache_config.sliding_window = self.model_config.get_sliding_window()

    def with_hf_config(
        self, hf_config: PretrainedConfig, architectures: list[str] | None = None
    ) -> VllmConfig:
        """A copy whose model config is ``hf_config`` (a composite's text part)."""
        if architectures is not None:
            hf_config = copy.deepcopy(hf_config)
            hf_config.architectures = architectures
        model_config = copy.copy(self.model_config)
        model_config.hf_config = hf_config
        return dataclasses.replace(self, model_config=model_config)


_current_vllm_config: VllmConfig | None = None


@contextmanager
def set_current_vllm_config(vllm_config: VllmConfig) -> Iterator[None]:
    """Make ``vllm_config`` the one layers read while a model is built."""
    global _current_vllm_config
    previous, _current_vllm_config = _current_vllm_config, vllm_config
    try:
        yield
    finally:
        _current_vllm_config = previous


def get_current_vllm_config() -> VllmConfig:
    """The config of the model being built (poolers read their dtype from it)."""
    if _current_vllm_config is None:
        raise RuntimeError("no current vllm_config: build models inside get_model")
    return _current_vllm_config
