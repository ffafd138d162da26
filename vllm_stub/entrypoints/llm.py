"""``LLM``: load a local model folder and generate for a batch of prompts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from tqdm.auto import tqdm

from vllm_stub.config import ModelConfig, SchedulerConfig, VllmConfig
from vllm_stub.engine.request import Request
from vllm_stub.engine.scheduler import Scheduler
from vllm_stub.model_executor.model_loader import get_model
from vllm_stub.outputs import CompletionOutput, RequestOutput
from vllm_stub.plugins import load_general_plugins
from vllm_stub.sample.sampler import sample
from vllm_stub.sampling_params import SamplingParams
from vllm_stub.transformers_utils.tokenizer import get_eos_token_ids, get_tokenizer
from vllm_stub.worker.model_runner import ModelRunner

PromptType = str | dict[str, Any]


class LLM:
    """An offline engine over one local model folder, as vLLM's ``LLM``.

    ``dtype`` is ``"auto"`` (the config's), ``"float32"``, ``"bfloat16"`` or
    ``"float16"``; ``seed`` seeds requests that bring no seed of their own;
    ``max_num_seqs`` caps how many sequences run in one batch.
    """

    def __init__(
        self,
        model: str,
        dtype: str = "auto",
        seed: int = 0,
        max_model_len: int | None = None,
        max_num_seqs: int = 256,
    ) -> None:
        load_general_plugins()
        self.vllm_config = VllmConfig(
            model_config=ModelConfig(
                model=str(model), dtype=dtype, seed=seed, max_model_len=max_model_len
            ),
            scheduler_config=SchedulerConfig(max_num_seqs=max_num_seqs),
        )
        model_config = self.vllm_config.model_config
        self.model = get_model(self.vllm_config)
        self.runner = ModelRunner(self.model, model_config.dtype)
        self.tokenizer = get_tokenizer(model)
        self.eos_token_ids = get_eos_token_ids(model, model_config.hf_config)
        self._generator = torch.Generator().manual_seed(seed)
        self._request_counter = 0

    def generate(
        self,
        prompts: PromptType | Sequence[PromptType],
        sampling_params: SamplingParams | Sequence[SamplingParams] | None = None,
        use_tqdm: bool = True,
    ) -> list[RequestOutput]:
        """Generate a completion for each prompt, all prompts in one batch.

        A prompt is a string (needs a tokenizer in the model folder) or
        ``{"prompt_token_ids": [...]}``; outputs come back in prompt order.
        """
        if isinstance(prompts, (str, dict)):
            prompts = [prompts]
        if sampling_params is None or isinstance(sampling_params, SamplingParams):
            sampling_params = [sampling_params or SamplingParams()] * len(prompts)
        if len(sampling_params) != len(prompts):
            raise ValueError(
                f"got {len(sampling_params)} sampling params for {len(prompts)} prompts"
            )
        requests = [
            self._make_request(p, sp)
            for p, sp in zip(prompts, sampling_params, strict=True)
        ]
        if not requests:
            return []
        self._run(requests, use_tqdm)
        return [self._output(r) for r in requests]

    def _make_request(self, prompt: PromptType, params: SamplingParams) -> Request:
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
        self._request_counter += 1
        return Request(str(self._request_counter), text, token_ids, params, generator)

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

    def _run(self, requests: list[Request], use_tqdm: bool) -> None:
        max_model_len = self.vllm_config.model_config.max_model_len
        # the last sampled token is never fed back, hence the -1
        max_len = min(
            max_model_len,
            max(len(r.prompt_token_ids) + r.params.max_tokens - 1 for r in requests),
        )
        num_slots = min(len(requests), self.vllm_config.scheduler_config.max_num_seqs)
        scheduler = Scheduler(requests, num_slots)
        decode = self.tokenizer.decode if self.tokenizer is not None else None
        with (
            self.runner.kv_cache(num_slots, max_len),
            tqdm(
                total=len(requests), desc="Processed prompts", disable=not use_tqdm
            ) as progress,
        ):
            while scheduler.has_unfinished():
                batch, is_prefill = scheduler.schedule()
                logits = self.runner.execute(batch, is_prefill)
                for request, (token_id, logprobs) in zip(
                    batch, sample(logits, batch, self._generator, decode), strict=True
                ):
                    request.append(
                        token_id, logprobs, self._stop_ids(request), max_model_len
                    )
                    if request.finish_reason is not None:
                        scheduler.finish(request)
                        progress.update(1)

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
