"""Causal self-attention over a flat token batch with a slot-per-sequence cache.

The KV cache is bound by the runner (``kv_cache = (k, v)``, each
``[num_slots, num_kv_heads, max_len, head_size]``); the batch layout comes from
the forward context. Without metadata (a plain model call) the whole input is
treated as one sequence and no cache is used.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from vllm_stub.forward_context import AttentionMetadata, get_forward_context
from vllm_stub.model_executor.layers import cpu_fast_paths


class Attention(nn.Module):
    """vLLM's ``Attention``: ``forward(q, k, v)`` on ``[num_tokens, heads * dim]``."""

    def __init__(
        self,
        num_heads: int,
        head_size: int,
        scale: float,
        num_kv_heads: int | None = None,
        cache_config: Any = None,
        quant_config: Any = None,
        prefix: str = "",
        **_unsupported_options: Any,
    ) -> None:
        super().__init__()
        if quant_config is not None:
            raise NotImplementedError("vllm_stub does not support quantization")
        self.num_heads = num_heads
        self.head_size = head_size
        self.scale = scale
        self.num_kv_heads = num_kv_heads or num_heads
        self.prefix = prefix
        self.kv_cache: tuple[torch.Tensor, torch.Tensor] | None = None

    def forward(
        self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor
    ) -> torch.Tensor:
        """Attention output ``[num_tokens, num_heads * head_size]``."""
        num_tokens = query.shape[0]
        q = query.view(num_tokens, self.num_heads, self.head_size).transpose(0, 1)
        k = key.view(num_tokens, self.num_kv_heads, self.head_size).transpose(0, 1)
        v = value.view(num_tokens, self.num_kv_heads, self.head_size).transpose(0, 1)
        meta = get_forward_context().attn_metadata
        if meta is None:
            out = self._causal(q, k, v)
        elif meta.is_prefill:
            out = self._prefill(q, k, v, meta)
        else:
            out = self._decode(q, k, v, meta)
        return out.transpose(0, 1).reshape(num_tokens, -1)

    def _causal(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> Any:
        # [heads, len, dim]: q_len == kv_len, so is_causal's top-left mask is right
        return F.scaled_dot_product_attention(
            q, k, v, is_causal=True, scale=self.scale, enable_gqa=True
        )

    def _prefill(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, meta: AttentionMetadata
    ) -> torch.Tensor:
        k_cache, v_cache = self._bound_cache()
        out = torch.empty_like(q)
        starts = meta.query_start_loc
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
        k_cache, v_cache = self._bound_cache()
        cpu_fast_paths.write_decode_kv(k_cache, k.transpose(0, 1), meta)
        cpu_fast_paths.write_decode_kv(v_cache, v.transpose(0, 1), meta)
        keys = cpu_fast_paths.running_kv(k_cache, meta)
        values = cpu_fast_paths.running_kv(v_cache, meta)
        # [batch, heads, 1, dim] against [batch, kv_heads, max_context, dim]; one
        # fused call, as each extra op costs a thread-pool round trip on CPU
        out = F.scaled_dot_product_attention(
            q.transpose(0, 1).unsqueeze(2),
            keys,
            values,
            attn_mask=meta.attn_mask,
            scale=self.scale,
            enable_gqa=True,
        )
        return out.squeeze(2).transpose(0, 1)

    def _bound_cache(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.kv_cache is None:
            raise RuntimeError(f"{self.prefix or 'Attention'}: no KV cache is bound")
        return self.kv_cache
