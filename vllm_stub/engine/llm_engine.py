"""``LLMEngine``: requests in, one scheduling step at a time, outputs out.

The shape of vLLM's and nano-vllm's engines: ``add_request`` validates and
queues a prompt, ``step`` runs one prefill or decode batch and samples a token
per sequence, and ``LLM`` loops ``step`` until ``has_unfinished_requests`` is
false. The engine owns the model, its runner, the scheduler and the requests;
the input processor builds requests, the output processor builds outputs.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from transformers import PreTrainedTokenizerBase

from vllm_stub.config import VllmConfig
from vllm_stub.engine.detokenizer import Detokenizer
from vllm_stub.engine.input_processor import InputProcessor, PromptType
from vllm_stub.engine.output_processor import OutputProcessor
from vllm_stub.engine.parallel_sampling import ParentRequest
from vllm_stub.engine.request import Request
from vllm_stub.engine.scheduler import Scheduler
from vllm_stub.model_executor.model_loader import get_model
from vllm_stub.multimodal.processing import MultiModalProcessor
from vllm_stub.outputs import PoolingOutput, PoolingRequestOutput, RequestOutput
from vllm_stub.pooling_params import PoolingParams
from vllm_stub.sample.logprobs import prompt_logprobs
from vllm_stub.sample.sampler import sample
from vllm_stub.sampling_params import SamplingParams
from vllm_stub.transformers_utils.tokenizer import get_eos_token_ids, get_tokenizer
from vllm_stub.worker.model_runner import ModelInput, ModelRunner

__all__ = ["LLMEngine", "PromptType"]


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
        self.tokenizer = get_tokenizer(
            model_config.tokenizer,
            trust_remote_code=model_config.trust_remote_code,
            required=model_config.tokenizer != model_config.model,
        )
        self.input_processor = InputProcessor(
            model_config,
            self.tokenizer,
            get_eos_token_ids(model_config.model, model_config.hf_config),
            MultiModalProcessor(
                type(self.model),
                model_config.hf_config,
                model_config.model,
                self.tokenizer,
            ),
        )
        self.output_processor = OutputProcessor(Detokenizer(self.tokenizer))
        self._generator = torch.Generator().manual_seed(model_config.seed)

    def get_tokenizer(self) -> PreTrainedTokenizerBase:
        """The tokenizer; ``ValueError`` when the model folder has none."""
        if self.tokenizer is None:
            raise ValueError(
                f"model folder {self.vllm_config.model_config.model!r} has no "
                "tokenizer; pass LLM(..., tokenizer=PATH)"
            )
        return self.tokenizer

    def get_supported_tasks(self) -> tuple[str, ...]:
        """``("generate",)``, or the pooling tasks of a pooling model's pooler."""
        if self.vllm_config.model_config.runner_type == "pooling":
            return tuple(sorted(self.model.pooler.get_supported_tasks()))
        return ("generate",)

    def pool(
        self,
        request_ids: list[str],
        prompt_token_ids: list[list[int]],
        params: list[PoolingParams],
    ) -> list[PoolingRequestOutput]:
        """Pool already validated prompts in one batch (a pooling model's step)."""
        pooled = self.model_runner.pool(prompt_token_ids, params)
        return [
            PoolingRequestOutput(request_id, PoolingOutput(data.float()), token_ids)
            for request_id, token_ids, data in zip(
                request_ids, prompt_token_ids, pooled, strict=True
            )
        ]

    def add_request(
        self, request_id: str, prompt: PromptType, params: SamplingParams
    ) -> None:
        """Validate ``prompt`` and queue it; raises ``ValueError`` for bad input.

        A prompt is a string (needs a tokenizer in the model folder) or
        ``{"prompt_token_ids": [...]}`` (optionally with its ``"prompt"`` text),
        either with ``"multi_modal_data"`` for a multimodal model.
        ``params.n > 1`` queues ``n`` child requests under ``request_id``.
        """
        text, token_ids, mm_input = self.input_processor.process(prompt)
        self.input_processor.check_params(params)
        if params.n == 1:
            requests = [
                self.input_processor.make_request(
                    request_id, text, token_ids, params, mm_input
                )
            ]
        else:
            parent = ParentRequest(request_id, text, token_ids, params)
            requests = [
                self.input_processor.make_request(
                    child_id, text, token_ids, parent.child_params(index), mm_input
                )
                for index, child_id in enumerate(parent.child_ids())
            ]
            self.output_processor.add_parent(parent)
        for request in requests:
            self.scheduler.add(request)

    def abort_request(self, request_ids: Iterable[str]) -> None:
        """Drop requests, waiting or running; their outputs are never returned."""
        request_ids = self.output_processor.expand(request_ids)
        self.scheduler.abort(request_ids)
        self.output_processor.abort(request_ids)
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
        if model_input.prompt_rows is not None:
            logits = self._score_prompts(batch, model_input, logits)
        max_model_len = self.vllm_config.model_config.max_model_len
        finished = []
        for request, (token_id, logprobs) in zip(
            batch, sample(logits, batch, self._generator, decode), strict=True
        ):
            request.append(token_id, logprobs, max_model_len)
            self.output_processor.detokenizer.check_stop_strings(request)
            if request.finish_reason is not None:
                self.scheduler.finish(request)
                output = self.output_processor.finish(request)
                if output is not None:
                    finished.append(output)
        self._release_cache_when_idle()
        return finished

    def _score_prompts(
        self, batch: list[Request], model_input: ModelInput, logits: torch.Tensor
    ) -> torch.Tensor:
        """Set prompt logprobs where asked; the rows to sample from."""
        decode = self.tokenizer.decode if self.tokenizer is not None else None
        for request, rows in zip(batch, model_input.prompt_rows, strict=True):
            if rows is not None:
                request.prompt_logprobs = prompt_logprobs(
                    logits[rows[0] : rows[1]],
                    request.prompt_token_ids,
                    request.params.prompt_logprobs,
                    decode,
                )
        return logits[model_input.sample_rows]

    def _release_cache_when_idle(self) -> None:
        # no memory held between generate calls: the next call sizes its own
        if not self.scheduler.has_unfinished():
            self.model_runner.free_kv_cache()
            self.scheduler.use_cache(0, 0)
