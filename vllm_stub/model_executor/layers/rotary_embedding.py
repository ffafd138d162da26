"""Rotary position embeddings, with the scaling schemes transformers implements.

``get_rope`` takes the v5-style ``rope_parameters`` dict (``rope_theta``,
``rope_type``, scaling keys); ``vllm_stub.transformers_utils.config`` builds that
dict from v4 fields (``rope_theta``, ``rope_scaling``) when a config lacks it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from vllm_stub.model_executor.layers import cpu_fast_paths

_DEFAULT_THETA = 10000.0


def _base_inv_freq(dim: int, theta: float) -> torch.Tensor:
    exponents = torch.arange(0, dim, 2, dtype=torch.int64).float() / dim
    return 1.0 / (theta**exponents)


def _default(dim: int, params: dict[str, Any], _max_pos: int) -> tuple[Any, float]:
    return _base_inv_freq(dim, params["rope_theta"]), 1.0


def _linear(dim: int, params: dict[str, Any], _max_pos: int) -> tuple[Any, float]:
    return _base_inv_freq(dim, params["rope_theta"]) / params["factor"], 1.0


def _dynamic(dim: int, params: dict[str, Any], _max_pos: int) -> tuple[Any, float]:
    # transformers rescales the base only once a sequence outgrows
    # max_position_embeddings; positions are capped there, so the base stays.
    return _default(dim, params, _max_pos)


def _llama3(dim: int, params: dict[str, Any], _max_pos: int) -> tuple[Any, float]:
    inv_freq = _base_inv_freq(dim, params["rope_theta"])
    factor = params["factor"]
    low, high = params["low_freq_factor"], params["high_freq_factor"]
    old_len = params["original_max_position_embeddings"]
    wavelen = 2 * math.pi / inv_freq
    # long wavelengths are interpolated by `factor`, short ones kept, and the
    # band between them blended smoothly (Llama 3.1's scheme).
    scaled = torch.where(wavelen > old_len / low, inv_freq / factor, inv_freq)
    smooth = (old_len / wavelen - low) / (high - low)
    blended = (1 - smooth) * scaled / factor + smooth * scaled
    is_medium = (wavelen >= old_len / high) & (wavelen <= old_len / low)
    return torch.where(is_medium, blended, scaled), 1.0


def _yarn_mscale(scale: float, mscale: float = 1.0) -> float:
    return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0


def _yarn(dim: int, params: dict[str, Any], max_pos: int) -> tuple[Any, float]:
    theta = params["rope_theta"]
    orig_max = params.get("original_max_position_embeddings") or max_pos
    factor = params.get("factor") or max_pos / orig_max
    attention_factor = params.get("attention_factor")
    if attention_factor is None:
        mscale, mscale_all_dim = params.get("mscale"), params.get("mscale_all_dim")
        if mscale and mscale_all_dim:
            attention_factor = _yarn_mscale(factor, mscale) / _yarn_mscale(
                factor, mscale_all_dim
            )
        else:
            attention_factor = _yarn_mscale(factor)

    def correction_dim(num_rotations: float) -> float:
        ratio = orig_max / (num_rotations * 2 * math.pi)
        return dim * math.log(ratio) / (2 * math.log(theta))

    low = correction_dim(params.get("beta_fast") or 32)
    high = correction_dim(params.get("beta_slow") or 1)
    if params.get("truncate", True):
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    if low == high:
        high += 0.001  # avoid a zero-width ramp
    ramp = ((torch.arange(dim // 2).float() - low) / (high - low)).clamp(0, 1)
    extrapolation = _base_inv_freq(dim, theta)
    inv_freq = extrapolation / factor * ramp + extrapolation * (1 - ramp)
    return inv_freq, float(attention_factor)


_ROPE_TYPES: dict[str, Callable[[int, dict[str, Any], int], tuple[Any, float]]] = {
    "default": _default,
    "linear": _linear,
    "dynamic": _dynamic,
    "llama3": _llama3,
    "yarn": _yarn,
}

# Built embeddings by their arguments: as in vLLM, layers with the same rope
# share one module and its cos/sin cache instead of a copy per layer.
_ROPE_CACHE: dict[tuple[Any, ...], RotaryEmbedding] = {}


class RotaryEmbedding(nn.Module):
    """Applies precomputed cos/sin to query and key over a flat token dimension.

    The halves (neox) or the members of each pair (GPT-J) of the first
    ``rotary_dim`` features rotate; ``cpu_fast_paths.rotate`` does it in one
    pass over query and key.
    """

    def __init__(
        self,
        head_size: int,
        rotary_dim: int,
        max_position_embeddings: int,
        inv_freq: torch.Tensor,
        is_neox_style: bool = True,
        attention_factor: float = 1.0,
    ) -> None:
        super().__init__()
        self.head_size = head_size
        self.rotary_dim = rotary_dim
        positions = torch.arange(max_position_embeddings, dtype=torch.float32)
        self._freqs = torch.outer(positions, inv_freq.float())
        self._attention_factor = attention_factor
        self.is_neox_style = is_neox_style

    @property
    def is_neox_style(self) -> bool:
        """Rotate halves (neox) or neighbouring pairs (GPT-J)."""
        return self._is_neox_style

    @is_neox_style.setter
    def is_neox_style(self, value: bool) -> None:
        # Model files may flip it after construction (vLLM's ernie45.py does);
        # the cache is laid out for one style, so it is laid out again.
        self._is_neox_style = value
        cache = cpu_fast_paths.rotary_cos_sin_cache(
            self._freqs, self._attention_factor, value
        )
        # [max_pos, 2, rotary_dim], float32 like transformers; cast when applied
        self.register_buffer("cos_sin_cache", cache, False)

    def forward(
        self, positions: torch.Tensor, query: torch.Tensor, key: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Rotate ``query``/``key`` (``[num_tokens, heads * head_size]``)."""
        return cpu_fast_paths.rotate(
            self.cos_sin_cache,
            positions,
            query,
            key,
            self.head_size,
            self.is_neox_style,
        )


def get_rope(
    head_size: int,
    max_position: int,
    is_neox_style: bool = True,
    rope_parameters: dict[str, Any] | None = None,
    dtype: torch.dtype | None = None,
    dual_chunk_attention_config: dict[str, Any] | None = None,
    mrope_positions_factor: int = 4,
) -> RotaryEmbedding:
    """Build the rotary embedding that ``rope_parameters`` describes.

    ``rope_parameters`` uses transformers v5 keys: ``rope_theta``, ``rope_type``
    (default, linear, dynamic, llama3, yarn), the type's scaling keys and
    optionally ``partial_rotary_factor``. ``dtype`` is accepted for vLLM
    compatibility; the cache stays float32. ``mrope_positions_factor`` only
    matters for multimodal rope, which is not built here; dual-chunk
    attention is refused. Equal arguments return the same module.
    """
    if dual_chunk_attention_config:
        raise NotImplementedError("vllm_stub has no dual-chunk rotary embedding")
    key = (head_size, max_position, is_neox_style, repr(rope_parameters))
    if key not in _ROPE_CACHE:
        _ROPE_CACHE[key] = _build_rope(
            head_size, max_position, is_neox_style, rope_parameters
        )
    return _ROPE_CACHE[key]


def _build_rope(
    head_size: int,
    max_position: int,
    is_neox_style: bool,
    rope_parameters: dict[str, Any] | None,
) -> RotaryEmbedding:
    params = dict(rope_parameters or {})
    params.setdefault("rope_theta", _DEFAULT_THETA)
    rope_type = params.get("rope_type", params.get("type", "default"))
    if rope_type not in _ROPE_TYPES:
        raise ValueError(
            f"unsupported rope_type {rope_type!r}; supported: {sorted(_ROPE_TYPES)}"
        )
    rotary_dim = int(head_size * params.get("partial_rotary_factor", 1.0))
    compute = _ROPE_TYPES[rope_type]
    inv_freq, attention_factor = compute(rotary_dim, params, max_position)
    return RotaryEmbedding(
        head_size, rotary_dim, max_position, inv_freq, is_neox_style, attention_factor
    )
