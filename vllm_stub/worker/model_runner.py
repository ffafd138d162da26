"""Packs scheduled requests into flat token batches and runs the model.

Prefill packs every admitted prompt into one forward; decode feeds one token
per running request. The KV cache is allocated once per ``generate`` call and
bound to the attention layers; metadata travels in the forward context.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from itertools import accumulate

import torch
from torch import nn

from vllm_stub.engine.request import Request
from vllm_stub.forward_context import AttentionMetadata, set_forward_context
from vllm_stub.model_executor.layers.attention import Attention


class ModelRunner:
    """Executes prefill and decode steps of a vLLM-shaped model."""

    def __init__(self, model: nn.Module, dtype: torch.dtype) -> None:
        self.model = model
        self.dtype = dtype
        self.attention_layers = [m for m in model.modules() if isinstance(m, Attention)]

    @contextmanager
    def kv_cache(self, num_slots: int, max_len: int) -> Iterator[None]:
        """Allocate ``[num_slots, kv_heads, max_len, head_size]`` K/V per layer."""
        for layer in self.attention_layers:
            shape = (num_slots, layer.num_kv_heads, max_len, layer.head_size)
            layer.kv_cache = (
                torch.zeros(shape, dtype=self.dtype),
                torch.zeros(shape, dtype=self.dtype),
            )
        try:
            yield
        finally:
            for layer in self.attention_layers:
                layer.kv_cache = None

    @torch.inference_mode()
    def execute(self, requests: list[Request], is_prefill: bool) -> torch.Tensor:
        """Logits ``[len(requests), vocab]`` for each request's next token."""
        slots = torch.tensor([r.slot for r in requests])
        if is_prefill:
            lens = [len(r.prompt_token_ids) for r in requests]
            starts = [0, *accumulate(lens)]
            input_ids = torch.tensor([t for r in requests for t in r.prompt_token_ids])
            positions = torch.cat([torch.arange(n) for n in lens])
            meta = AttentionMetadata(True, slots, query_start_loc=starts)
            last_token_index = torch.tensor(starts[1:]) - 1
        else:
            context_lens = torch.tensor([r.num_tokens for r in requests])
            input_ids = torch.tensor([r.last_token_id for r in requests])
            positions = context_lens - 1
            max_len = int(context_lens.max())
            mask = None
            if int(context_lens.min()) != max_len:
                mask = torch.arange(max_len) < context_lens[:, None]
                mask = mask[:, None, None, :]
            slot_ids = [r.slot for r in requests]
            consecutive = slot_ids == list(
                range(slot_ids[0], slot_ids[0] + len(slot_ids))
            )
            meta = AttentionMetadata(
                False,
                slots,
                context_lens=context_lens,
                max_context_len=max_len,
                attn_mask=mask,
                first_slot=slot_ids[0] if consecutive else None,
            )
            last_token_index = None
        with set_forward_context(meta):
            hidden_states = self.model(input_ids, positions)
        if last_token_index is not None:
            hidden_states = hidden_states[last_token_index]
        return self.model.compute_logits(hidden_states)
