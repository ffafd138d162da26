"""Packs scheduled requests into flat token batches and runs the model.

As in nano-vllm, ``prepare_prefill`` packs every admitted prompt into one
forward and ``prepare_decode`` feeds one token per running request; both only
build tensors, and ``execute`` runs the model on what they built. The KV cache
is bound to the attention layers by ``allocate_kv_cache``; batch metadata
travels in the forward context. A pooling model's batch is one prefill whose
hidden states go to the model's pooler instead of its LM head (``pool``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from itertools import accumulate

import torch
from torch import nn

from vllm_stub.engine.request import Request
from vllm_stub.forward_context import AttentionMetadata, set_forward_context
from vllm_stub.model_executor.layers import cpu_attention_paths
from vllm_stub.model_executor.layers.attention import Attention
from vllm_stub.pooling_params import PoolingParams
from vllm_stub.v1.pool.metadata import PoolingMetadata
from vllm_stub.worker.heap import keep_freed_memory


@dataclass(frozen=True)
class ModelInput:
    """One step's flat token batch, ready for ``ModelRunner.execute``.

    ``logits_indices`` picks the hidden states whose logits are wanted (each
    prompt's last token in prefill); ``None`` takes every row (decode). When a
    prefill request asks for prompt logprobs, all its positions are wanted:
    ``prompt_rows[i]`` is then request ``i``'s ``(start, end)`` in the logits
    (``None`` for the others) and ``sample_rows`` the row each samples from.
    A prefill with images carries their ``pixel_values`` and the mask of the
    rows their embeddings replace (``is_multimodal``).
    """

    input_ids: torch.Tensor
    positions: torch.Tensor
    attn_metadata: AttentionMetadata
    logits_indices: torch.Tensor | None = None
    prompt_rows: list[tuple[int, int] | None] | None = None
    sample_rows: torch.Tensor | None = None
    pixel_values: torch.Tensor | None = None
    is_multimodal: torch.Tensor | None = None


class ModelRunner:
    """Executes prefill and decode steps of a vLLM-shaped model."""

    def __init__(self, model: nn.Module, dtype: torch.dtype) -> None:
        self.model = model
        self.dtype = dtype
        self.attention_layers = [m for m in model.modules() if isinstance(m, Attention)]
        # after loading, so that only the steps' memory is kept between them
        keep_freed_memory()

    def allocate_kv_cache(self, num_slots: int, max_len: int) -> None:
        """Bind ``[num_slots, kv_heads, max_len, head_size]`` K/V to each layer."""
        for layer in self.attention_layers:
            shape = (num_slots, layer.num_kv_heads, max_len, layer.head_size)
            layer.kv_cache = (
                torch.zeros(shape, dtype=self.dtype),
                torch.zeros(shape, dtype=self.dtype),
            )

    def free_kv_cache(self) -> None:
        """Unbind the cache, so that its memory is free for others between calls."""
        for layer in self.attention_layers:
            layer.kv_cache = None

    def prepare_prefill(self, requests: list[Request]) -> ModelInput:
        """All prompts of ``requests`` back to back, each from position 0."""
        model_input = _packed_prompts(
            [r.prompt_token_ids for r in requests], [r.slot for r in requests]
        )
        starts = model_input.attn_metadata.query_start_loc
        if any(r.params.prompt_logprobs is not None for r in requests):
            model_input = _with_prompt_rows(model_input, requests, starts)
        if any(r.mm_input is not None for r in requests):
            model_input = _with_images(model_input, requests, starts)
        return model_input

    def prepare_decode(self, requests: list[Request]) -> ModelInput:
        """The last token of each request, at the end of its cached context."""
        slot_ids = [r.slot for r in requests]
        lens = [r.num_tokens for r in requests]
        # Built from Python lists, with no tensor op between: the step starts
        # with the CPU caches just emptied by the LM head's weights, where
        # each op costs ~15-25 us of cold dispatch. (Not as views of one
        # tensor: dynamo makes their storage offsets inputs of the graph.)
        context_lens = torch.tensor(lens)
        positions = torch.tensor([n - 1 for n in lens])
        input_ids = torch.tensor([r.last_token_id for r in requests])
        slots = torch.tensor(slot_ids)
        max_len = max(lens)
        mask = None
        if min(lens) != max_len:
            mask = torch.arange(max_len) < context_lens[:, None]
            mask = mask[:, None, None, :]
        meta = AttentionMetadata(
            False,
            slots,
            context_lens=context_lens,
            max_context_len=max_len,
            attn_mask=mask,
            first_slot=cpu_attention_paths.first_slot_if_consecutive(slot_ids),
        )
        return ModelInput(input_ids=input_ids, positions=positions, attn_metadata=meta)

    @torch.inference_mode()
    def execute(self, model_input: ModelInput) -> torch.Tensor:
        """Logits ``[num_sequences, vocab]`` for each sequence's next token."""
        inputs_embeds = None
        if model_input.pixel_values is not None:
            embeddings = self.model.embed_multimodal(
                pixel_values=model_input.pixel_values.to(self.dtype)
            )
            inputs_embeds = self.model.embed_input_ids(
                model_input.input_ids,
                embeddings,
                is_multimodal=model_input.is_multimodal,
            )
        with set_forward_context(model_input.attn_metadata):
            hidden_states = self.model(
                model_input.input_ids,
                model_input.positions,
                inputs_embeds=inputs_embeds,
            )
        if model_input.logits_indices is not None:
            hidden_states = hidden_states[model_input.logits_indices]
        return self.model.compute_logits(hidden_states)

    @torch.inference_mode()
    def pool(
        self, prompts: list[list[int]], params: list[PoolingParams]
    ) -> list[torch.Tensor]:
        """The pooler's output for each prompt, all prompts in one forward."""
        model_input = _packed_prompts(prompts, list(range(len(prompts))))
        lens = [len(p) for p in prompts]
        # prefill writes K/V as it goes: a cache for this batch only
        self.allocate_kv_cache(len(prompts), max(lens))
        try:
            with set_forward_context(model_input.attn_metadata):
                hidden_states = self.model(model_input.input_ids, model_input.positions)
        finally:
            self.free_kv_cache()
        metadata = PoolingMetadata(torch.tensor(lens), prompts, params)
        return list(self.model.pooler(hidden_states, metadata))


def _packed_prompts(prompts: list[list[int]], slots: list[int]) -> ModelInput:
    """Prompts back to back, each from position 0, prompt ``i`` in ``slots[i]``."""
    lens = [len(p) for p in prompts]
    starts = [0, *accumulate(lens)]
    return ModelInput(
        input_ids=torch.tensor([t for p in prompts for t in p]),
        positions=torch.cat([torch.arange(n) for n in lens]),
        attn_metadata=AttentionMetadata(
            True,
            torch.tensor(slots),
            query_start_loc=starts,
            first_slot=cpu_attention_paths.first_slot_if_consecutive(slots),
        ),
        logits_indices=torch.tensor(starts[1:]) - 1,
    )


def _with_images(
    model_input: ModelInput, requests: list[Request], starts: list[int]
) -> ModelInput:
    """``model_input`` with its requests' images and their token rows."""
    is_multimodal = torch.zeros(len(model_input.input_ids), dtype=torch.bool)
    pixel_values = []
    for request, start in zip(requests, starts, strict=False):
        if request.mm_input is not None:
            positions = torch.tensor(request.mm_input.placeholder_positions)
            is_multimodal[start + positions] = True
            pixel_values.append(request.mm_input.pixel_values)
    return dataclasses.replace(
        model_input, pixel_values=torch.cat(pixel_values), is_multimodal=is_multimodal
    )


def _with_prompt_rows(
    model_input: ModelInput, requests: list[Request], starts: list[int]
) -> ModelInput:
    """``model_input`` wanting every position of the prompts scored for logprobs."""
    indices: list[int] = []
    prompt_rows: list[tuple[int, int] | None] = []
    sample_rows: list[int] = []
    for request, start, end in zip(requests, starts, starts[1:], strict=False):
        if request.params.prompt_logprobs is None:
            prompt_rows.append(None)
            indices.append(end - 1)
        else:
            prompt_rows.append((len(indices), len(indices) + end - start))
            indices.extend(range(start, end))
        # a prompt's last position predicts its first generated token
        sample_rows.append(len(indices) - 1)
    return dataclasses.replace(
        model_input,
        logits_indices=torch.tensor(indices),
        prompt_rows=prompt_rows,
        sample_rows=torch.tensor(sample_rows),
    )
