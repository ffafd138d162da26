"""``LLMEngine``: requests in, one scheduling step at a time, outputs out.

The shape of vLLM's and nano-vllm's engines: ``add_request`` validates and
queues a prompt, ``step`` runs one prefill or decode batch and samples a token
per sequence, and ``LLM`` loops ``step`` until ``has_unfinished_requests`` is
false. The engine owns the model, its runner, the scheduler and the requests.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from vllm_stub.config import VllmConfig
from vllm_stub.engine.request import Request
from vllm_stub.engine.scheduler import Scheduler
from vllm_stub.model_executor.model_loader import get_model
from vllm_stub.outputs import CompletionOutput, RequestOutput
from vllm_stub.sample.sampler import sample
from vllm_stub.sampling_params import SamplingParams
from vllm_stub.transformers_utils.tokenizer import get_eos_token_ids, get_tokenizer
from vllm_stub.worker.model_runner import ModelRunner

PromptType = str | dict[str, Any]


class LLMEngine:
    """Loads the model of ``vllm_config`` and generates for queued requests.

    Unseeded requests draw from one generator seeded with the model config's
    ``seed``. The KV cache exists only while requests are unfinished.
    """

    def __init__(self, vllm_config: VllmConfig) -> None:
        self.vllm_config = vllm_config
        model_config = vllm_config.model_config
        self.model = get_model(vllm_config)
        self.model_runner = ModelRunner(self.model, model_config.dtype)
        self.scheduler = Scheduler(
            vllm_config.scheduler_config.max_num_seqs, model_config.max_model_len
        )
        self.tokenizer = get_tokenizer(model_config.model)
        self.eos_token_ids = get_eos_token_ids(
            model_config.model, model_config.hf_config
        )
        self._generator = torch.Generator().manual_seed(model_config.seed)

    def add_request(
        self, request_id: str, prompt: PromptType, params: SamplingParams
    ) -> None:
        """Validate ``prompt`` and queue it; raises ``ValueError`` for bad input.

        A prompt is a string (needs a tokenizer in the model folder) or
        ``{"prompt_token_ids": [...]}`` (optionally with its ``"prompt"`` text).
        """
        if isinstance(prompt, str):
            if self.tokenizer is None:
                raise ValueError(
                    "text prompts need a tokenizer, and model folder "
                    f"{self.vllm_config.model_config.model!r} has none; pass "
                    '{"prompt_token_ids": [...]} instead'
                )
            text, token_ids = prompt, self.tokenizer.encode(prompt)
        elif isinstance(prompt, dict) and "prompt_token_ids" in prompt:
            text, token_ids = prompt.get("prompt"), list(prompt["prompt_token_ids"])
        else:
            raise ValueError(
                'a prompt must be a string or {"prompt_token_ids": [...]}, '
                f"got {prompt!r}"
            )
        self._check_prompt(token_ids)
        generator = None
        if params.seed is not None:
            generator = torch.Generator().manual_seed(params.seed)
        self.scheduler.add(Request(request_id, text, token_ids, params, generator))

    def _check_prompt(self, token_ids: list[int]) -> None:
        model_config = self.vllm_config.model_config
        if not token_ids:
            raise ValueError("the prompt is empty")
        if len(token_ids) > model_config.max_model_len:
            raise ValueError(
                f"the prompt (length {len(token_ids)}) is longer than the maximum "
                f"model length of {model_config.max_model_len}"
            )
        vocab_size = model_config.hf_config.vocab_size
        if not all(isinstance(t, int) and 0 <= t < vocab_size for t in token_ids):
            raise ValueError(f"prompt token ids must be ints in [0, {vocab_size})")

    def abort_request(self, request_ids: Iterable[str]) -> None:
        """Drop requests, waiting or running; their outputs are never returned."""
        self.scheduler.abort(request_ids)
        self._release_cache_when_idle()

    def has_unfinished_requests(self) -> bool:
        """Whether ``step`` has work left."""
        return self.scheduler.has_unfinished()

    def step(self) -> list[RequestOutput]:
        """Run one prefill or decode batch; outputs of the requests it finished."""
        if not self.scheduler.has_unfinished():
            return []
        new_shape = self.scheduler.new_cache_shape()
        if new_shape is not None:
            self.model_runner.allocate_kv_cache(*new_shape)
            self.scheduler.use_cache(*new_shape)
        batch, is_prefill = self.scheduler.schedule()
        if is_prefill:
            model_input = self.model_runner.prepare_prefill(batch)
        else:
            model_input = self.model_runner.prepare_decode(batch)
        logits = self.model_runner.execute(model_input)
        decode = self.tokenizer.decode if self.tokenizer is not None else None
        max_model_len = self.vllm_config.model_config.max_model_len
        finished = []
        for request, (token_id, logprobs) in zip(
            batch, sample(logits, batch, self._generator, decode), strict=True
        ):
            request.append(token_id, logprobs, self._stop_ids(request), max_model_len)
            if request.finish_reason is not None:
                self.scheduler.finish(request)
                finished.append(self._output(request))
        self._release_cache_when_idle()
        return finished

    def _release_cache_when_idle(self) -> None:
        # no memory held between generate calls: the next call sizes its own
        if not self.scheduler.has_unfinished():
            self.model_runner.free_kv_cache()
            self.scheduler.use_cache(0, 0)

    def _stop_ids(self, request: Request) -> set[int]:
        stop = set(request.params.stop_token_ids or [])
        return stop if request.params.ignore_eos else stop | self.eos_token_ids

    def _output(self, request: Request) -> RequestOutput:
        text = ""
        if self.tokenizer is not None:
            text = self.tokenizer.decode(
                request.output_token_ids, skip_special_tokens=True
            )
        completion = CompletionOutput(
            index=0,
            text=text,
            token_ids=list(request.output_token_ids),
            finish_reason=request.finish_reason,
            logprobs=request.logprobs,
        )
        return RequestOutput(
            request_id=request.request_id,
            prompt=request.prompt,
            prompt_token_ids=request.prompt_token_ids,
            outputs=[completion],
        )
