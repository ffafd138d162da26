"""Prompts and sampling parameters to validated engine ``Request``s.

As vLLM's input processor: text prompts are tokenized, prompts are checked
against the vocabulary and the model length, ``max_tokens=None`` becomes what
fits in the model's length, and the stopping tokens are resolved. The
tokenizer's EOS token ends a sequence with ``stop_reason=None``; the other EOS
ids of ``generation_config.json`` act as extra ``stop_token_ids``.
"""

from __future__ import annotations

from typing import Any

import torch
from transformers import PreTrainedTokenizerBase

from vllm_stub.config import ModelConfig
from vllm_stub.engine.request import Request
from vllm_stub.multimodal.processing import MultiModalInput, MultiModalProcessor
from vllm_stub.sampling_params import SamplingParams

PromptType = str | dict[str, Any]


class InputProcessor:
    """Validates prompts and builds requests for one model."""

    def __init__(
        self,
        model_config: ModelConfig,
        tokenizer: PreTrainedTokenizerBase | None,
        eos_token_ids: set[int],
        mm_processor: MultiModalProcessor | None = None,
    ) -> None:
        self.model_config = model_config
        self.tokenizer = tokenizer
        self.mm_processor = mm_processor
        self.eos_token_id = tokenizer.eos_token_id if tokenizer is not None else None
        self.extra_eos_ids = eos_token_ids - {self.eos_token_id}

    def process(
        self, prompt: PromptType, *, generating: bool = True
    ) -> tuple[str | None, list[int], MultiModalInput | None]:
        """``tokenize``, and for a prompt with ``multi_modal_data`` its images.

        A multimodal prompt is ``{"prompt": text or "prompt_token_ids": [...],
        "multi_modal_data": {"image": image or [images]}}``; its placeholders
        are expanded to the image tokens.
        """
        if not (isinstance(prompt, dict) and "multi_modal_data" in prompt):
            return (*self.tokenize(prompt, generating=generating), None)
        assert self.mm_processor is not None
        token_ids, mm_input = self.mm_processor.process(prompt)
        self._check_prompt(token_ids, generating)
        return prompt.get("prompt"), token_ids, mm_input

    def tokenize(
        self, prompt: PromptType, *, generating: bool = True
    ) -> tuple[str | None, list[int]]:
        """A prompt's text (if any) and token ids; raises ``ValueError`` if bad.

        A prompt is a string (needs a tokenizer) or ``{"prompt_token_ids":
        [...]}`` (optionally with its ``"prompt"`` text). A prompt to generate
        from must leave room for one output token; one to pool need not.
        """
        if isinstance(prompt, str):
            if self.tokenizer is None:
                raise ValueError(
                    "text prompts need a tokenizer, and model folder "
                    f"{self.model_config.model!r} has none; pass "
                    '{"prompt_token_ids": [...]} instead'
                )
            text, token_ids = prompt, self.tokenizer.encode(prompt)
        elif isinstance(prompt, dict) and "multi_modal_data" in prompt:
            raise ValueError(
                "multi_modal_data is only supported by generate() in vllm_stub"
            )
        elif isinstance(prompt, dict) and "prompt_token_ids" in prompt:
            text, token_ids = prompt.get("prompt"), list(prompt["prompt_token_ids"])
        else:
            raise ValueError(
                'a prompt must be a string or {"prompt_token_ids": [...]}, '
                f"got {prompt!r}"
            )
        self._check_prompt(token_ids, generating)
        return text, token_ids

    def _check_prompt(self, token_ids: list[int], generating: bool) -> None:
        max_model_len = self.model_config.max_model_len
        if not token_ids:
            raise ValueError("the prompt is empty")
        if len(token_ids) > max_model_len:
            raise ValueError(
                f"the prompt (length {len(token_ids)}) is longer than the maximum "
                f"model length of {max_model_len}"
            )
        if generating and len(token_ids) == max_model_len:
            raise ValueError(
                f"the prompt (length {len(token_ids)}) plus the requested output "
                f"tokens (at least 1) is longer than the maximum model length of "
                f"{max_model_len}"
            )
        vocab_size = self.model_config.hf_config.get_text_config().vocab_size
        if not all(isinstance(t, int) and 0 <= t < vocab_size for t in token_ids):
            raise ValueError(f"prompt token ids must be ints in [0, {vocab_size})")

    def check_params(self, params: SamplingParams) -> None:
        """Reject what this model cannot do; raises ``ValueError``."""
        if params.stop and self.tokenizer is None:
            raise ValueError(
                "stop strings need a tokenizer, and model folder "
                f"{self.model_config.model!r} has none; use stop_token_ids"
            )

    def make_request(
        self,
        request_id: str,
        prompt: str | None,
        prompt_token_ids: list[int],
        params: SamplingParams,
        mm_input: MultiModalInput | None = None,
    ) -> Request:
        """A request with its length limit and stopping tokens resolved."""
        max_tokens = params.max_tokens
        if max_tokens is None:
            max_tokens = self.model_config.max_model_len - len(prompt_token_ids)
            # SamplingParams could not check this without the prompt
            if params.min_tokens > max_tokens:
                raise ValueError(
                    f"min_tokens must be less than or equal to "
                    f"max_tokens={max_tokens}, got {params.min_tokens}"
                )
        stop_ids = set(params.stop_token_ids)
        if not params.ignore_eos:
            stop_ids |= self.extra_eos_ids
        eos = {self.eos_token_id} - {None}
        generator = None
        if params.seed is not None:
            generator = torch.Generator().manual_seed(params.seed)
        return Request(
            request_id,
            prompt,
            prompt_token_ids,
            params,
            generator,
            mm_input=mm_input,
            max_tokens=max_tokens,
            eos_token_id=None if params.ignore_eos else self.eos_token_id,
            stop_token_ids=frozenset(stop_ids),
            # EOS is held back for min_tokens even with ignore_eos, as in vLLM
            min_tokens_stop_ids=sorted(
                set(params.stop_token_ids) | self.extra_eos_ids | eos
            ),
        )
