"""Causal self-attention over a flat token batch with a slot-per-sequence cache.

The KV cache is bound by the runner (``kv_cache = (k, v)``, each
``[num_slots, num_kv_heads, max_len, head_size]``), which also hands a float32
cache to the fused kernels under the layer's number (``kernel_cache_id``), where
a decode step's attention finds it; the batch layout comes from the forward
context. Without metadata (a plain model call) the whole input is
treated as one sequence and no cache is used. A sliding window (per layer, or
the model's from ``cache_config.sliding_window``) lets a token see itself and
the ``window - 1`` tokens before it, as in vLLM and transformers.
"""

from __future__ import annotations

import itertools
import weakref
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from vllm_stub.forward_context import AttentionMetadata, get_forward_context
from vllm_stub.model_executor.layers import cpu_attention_paths
from vllm_stub.v1.attention.backend import AttentionType

# one number per layer of every model in the process: the kernels' cache table
# is the process's
_KERNEL_CACHE_IDS = itertools.count()


class Attention(nn.Module):
    """vLLM's ``Attention``: ``forward(q, k, v)`` on ``[num_tokens, heads * dim]``."""

    def __init__(
        self,
        num_heads: int,
        head_size: int,
        scale: float,
        num_kv_heads: int | None = None,
        alibi_slopes: list[float] | None = None,
        use_alibi_sqrt: bool | None = None,
        cache_config: Any = None,
        quant_config: Any = None,
        logits_soft_cap: float | None = None,
        per_layer_sliding_window: int | None = None,
        prefix: str = "",
        attn_type: str = AttentionType.DECODER,
        **_backend_options: Any,
    ) -> None:
        super().__init__()
        # Options that change the maths are refused rather than ignored.
        if quant_config is not None:
            raise NotImplementedError("vllm_stub does not support quantization")
        if alibi_slopes is not None or logits_soft_cap is not None:
            raise NotImplementedError(
                "vllm_stub's Attention supports neither ALiBi nor logit soft-capping"
            )
        if attn_type not in (AttentionType.DECODER, AttentionType.ENCODER_ONLY):
            raise NotImplementedError(f"vllm_stub has no {attn_type} attention")
        self.num_heads = num_heads
        self.head_size = head_size
        self.scale = scale
        self.num_kv_heads = num_kv_heads or num_heads
        self.causal = attn_type == AttentionType.DECODER
        self.sliding_window = per_layer_sliding_window or getattr(
            cache_config, "sliding_window", None
        )
        self.prefix = prefix
        self.kernel_cache_id = next(_KERNEL_CACHE_IDS)
        self._kv_cache: tuple[torch.Tensor, torch.Tensor] | None = None
        self._cache_in_kernels = False
        # a layer collected with its cache bound must not leave it to the table
        self._unbind_when_collected: weakref.finalize | None = None

    @property
    def kv_cache(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The bound ``(key, value)`` cache, or ``None``."""
        return self._kv_cache

    @kv_cache.setter
    def kv_cache(self, cache: tuple[torch.Tensor, torch.Tensor] | None) -> None:
        self._kv_cache = cache
        self._cache_in_kernels = cpu_attention_paths.bind_kv_cache(
            self.kernel_cache_id, cache, self._cache_in_kernels
        )
        if self._cache_in_kernels and self._unbind_when_collected is None:
            unbind = (self.kernel_cache_id, None, True)
            self._unbind_when_collected = weakref.finalize(
                self, cpu_attention_paths.bind_kv_cache, *unbind
            )
            self._unbind_when_collected.atexit = False

    def forward(
        self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor
    ) -> torch.Tensor:
        """Attention output ``[num_tokens, num_heads * head_size]``."""
        meta = get_forward_context().attn_metadata
        if (
            meta is not None
            and not meta.is_prefill
            and self.causal
            and self._cache_in_kernels
        ):
            fused = cpu_attention_paths.decode_attention(
                query,
                key,
                value,
                self.kernel_cache_id,
                meta,
                self.scale,
                self.sliding_window,
            )
            if fused is not None:
                return fused
        num_tokens = query.shape[0]
        q = query.view(num_tokens, self.num_heads, self.head_size).transpose(0, 1)
        k = key.view(num_tokens, self.num_kv_heads, self.head_size).transpose(0, 1)
        v = value.view(num_tokens, self.num_kv_heads, self.head_size).transpose(0, 1)
        if meta is None:
            out = self._causal(q, k, v)
        elif meta.is_prefill:
            out = self._prefill(q, k, v, meta)
        else:
            out = self._decode(q, k, v, meta)
        return out.transpose(0, 1).reshape(num_tokens, -1)

    def _causal(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> Any:
        # [(batch,) heads, len, dim]: q_len == kv_len, so is_causal's top-left
        # mask is right
        if self.sliding_window is None or not self.causal:
            return F.scaled_dot_product_attention(
                q, k, v, is_causal=self.causal, scale=self.scale, enable_gqa=True
            )
        offset = torch.arange(q.shape[-2])
        offset = offset[:, None] - offset[None, :]  # query minus key position
        mask = (offset >= 0) & (offset < self.sliding_window)
        return F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, scale=self.scale, enable_gqa=True
        )

    def _decode_mask(self, meta: AttentionMetadata) -> torch.Tensor | None:
        """The metadata's length mask, narrowed to the window when there is one."""
        if self.sliding_window is None:
            return meta.attn_mask
        positions = torch.arange(meta.max_context_len)
        lens = meta.context_lens[:, None]
        mask = (positions < lens) & (positions >= lens - self.sliding_window)
        return mask[:, None, None, :]

    def _prefill(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, meta: AttentionMetadata
    ) -> torch.Tensor:
        k_cache, v_cache = self._bound_cache()
        starts = meta.query_start_loc
        batched = cpu_attention_paths.equal_length_batch(q, k, v, meta)
        if batched is not None:
            first, (qb, kb, vb) = meta.first_slot, batched
            k_cache[first : first + kb.shape[0], :, : kb.shape[2]] = kb
            v_cache[first : first + vb.shape[0], :, : vb.shape[2]] = vb
            return cpu_attention_paths.unbatch(self._causal(qb, kb, vb))
        out = torch.empty_like(q)
        for i, slot in enumerate(meta.slots.tolist()):
            start, end = starts[i], starts[i + 1]
            k_cache[slot, :, : end - start] = k[:, start:end]
            v_cache[slot, :, : end - start] = v[:, start:end]
            out[:, start:end] = self._causal(
                q[:, start:end], k[:, start:end], v[:, start:end]
            )
        return out

    def _decode(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, meta: AttentionMetadata
    ) -> torch.Tensor:
        if not self.causal:
            raise RuntimeError(f"{self.prefix}: encoder-only attention has no decode")
        k_cache, v_cache = self._bound_cache()
        cpu_attention_paths.write_decode_kv(k_cache, k.transpose(0, 1), meta)
        cpu_attention_paths.write_decode_kv(v_cache, v.transpose(0, 1), meta)
        keys = cpu_attention_paths.running_kv(k_cache, meta)
        values = cpu_attention_paths.running_kv(v_cache, meta)
        # [batch, heads, 1, dim] against [batch, kv_heads, max_context, dim]; one
        # fused call, as each extra op costs a thread-pool round trip on CPU
        out = F.scaled_dot_product_attention(
            q.transpose(0, 1).unsqueeze(2),
            keys,
            values,
            attn_mask=self._decode_mask(meta),
            scale=self.scale,
            enable_gqa=True,
        )
        return out.squeeze(2).transpose(0, 1)

    def _bound_cache(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.kv_cache is None:
            raise RuntimeError(f"{self.prefix or 'Attention'}: no KV cache is bound")
        return self.kv_cache
