"""``LLM``: load a local model folder and generate for a batch of prompts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tqdm.auto import tqdm
from transformers import PreTrainedTokenizerBase

from vllm_stub.config import ModelConfig, SchedulerConfig, VllmConfig
from vllm_stub.engine.llm_engine import LLMEngine, PromptType
from vllm_stub.entrypoints.chat_utils import Conversation, conversations, render_chat
from vllm_stub.entrypoints.pooling import PoolingOfflineMixin
from vllm_stub.outputs import RequestOutput
from vllm_stub.plugins import load_general_plugins
from vllm_stub.pooler_config import PoolerConfig
from vllm_stub.sampling_params import SamplingParams


class LLM(PoolingOfflineMixin):
    """An offline engine over one local model folder, as vLLM's ``LLM``.

    ``tokenizer`` is a folder to take the tokenizer from instead of the
    model's; ``trust_remote_code`` lets transformers run the folders' own
    config and tokenizer code. ``dtype`` is ``"auto"`` (the config's),
    ``"float32"``, ``"bfloat16"`` or ``"float16"``; ``seed`` seeds requests
    that bring no seed of their own; ``max_num_seqs`` caps how many sequences
    run in one batch. ``runner="pooling"`` serves ``embed``/``classify``
    (``convert`` adapts a causal LM: ``"embed"``, the default, or
    ``"classify"``; ``pooler_config`` overrides the pooling).
    """

    def __init__(
        self,
        model: str,
        *,
        tokenizer: str | None = None,
        trust_remote_code: bool = False,
        dtype: str = "auto",
        seed: int = 0,
        max_model_len: int | None = None,
        max_num_seqs: int = 256,
        runner: str = "auto",
        convert: str = "auto",
        pooler_config: PoolerConfig | None = None,
        enforce_eager: bool = False,
    ) -> None:
        load_general_plugins()
        self.llm_engine = LLMEngine(
            VllmConfig(
                model_config=ModelConfig(
                    model=str(model),
                    dtype=dtype,
                    seed=seed,
                    max_model_len=max_model_len,
                    tokenizer=None if tokenizer is None else str(tokenizer),
                    trust_remote_code=trust_remote_code,
                    runner=runner,
                    convert=convert,
                    pooler_config=pooler_config,
                    enforce_eager=enforce_eager,
                ),
                scheduler_config=SchedulerConfig(max_num_seqs=max_num_seqs),
            )
        )
        self.vllm_config = self.llm_engine.vllm_config
        self.model = self.llm_engine.model
        self.tokenizer = self.llm_engine.tokenizer
        self._request_counter = 0

    def get_tokenizer(self) -> PreTrainedTokenizerBase:
        """The tokenizer the engine uses; ``ValueError`` when there is none."""
        return self.llm_engine.get_tokenizer()

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
        if self.llm_engine.vllm_config.model_config.runner_type != "generate":
            raise ValueError(
                "LLM.generate() is only supported for generative models. Try "
                "passing LLM(..., runner='generate') to use the model as a "
                "generative model."
            )
        if isinstance(prompts, (str, dict)):
            prompts = [prompts]
        if sampling_params is None or isinstance(sampling_params, SamplingParams):
            sampling_params = [sampling_params or SamplingParams()] * len(prompts)
        if len(sampling_params) != len(prompts):
            raise ValueError(
                f"got {len(sampling_params)} sampling params for {len(prompts)} prompts"
            )
        request_ids = self._add_requests(prompts, sampling_params)
        if not request_ids:
            return []
        return self._run_engine(request_ids, use_tqdm)

    def chat(
        self,
        messages: Conversation | Sequence[Conversation],
        sampling_params: SamplingParams | Sequence[SamplingParams] | None = None,
        use_tqdm: bool = True,
        *,
        chat_template: str | None = None,
        add_generation_prompt: bool = True,
        continue_final_message: bool = False,
        tools: list[dict[str, Any]] | None = None,
        chat_template_kwargs: dict[str, Any] | None = None,
    ) -> list[RequestOutput]:
        """Generate replies to one conversation or several, as vLLM's ``chat``.

        A conversation is a list of ``{"role": ..., "content": ...}`` dicts.
        Each is rendered with ``chat_template`` (default: the tokenizer's) and
        ``add_generation_prompt``, tokenized without special tokens, and
        generated like a prompt of ``generate``.
        """
        tokenizer = self.get_tokenizer()
        prompts = [
            render_chat(
                tokenizer,
                conversation,
                chat_template=chat_template,
                add_generation_prompt=add_generation_prompt,
                continue_final_message=continue_final_message,
                tools=tools,
                chat_template_kwargs=chat_template_kwargs,
            )
            for conversation in conversations(messages)
        ]
        return self.generate(prompts, sampling_params, use_tqdm=use_tqdm)

    def _add_requests(
        self, prompts: Sequence[PromptType], params: Sequence[SamplingParams]
    ) -> list[str]:
        """Queue every prompt, or none: a bad prompt withdraws those before it."""
        request_ids: list[str] = []
        try:
            for prompt, sampling_params in zip(prompts, params, strict=True):
                # ids count accepted prompts only
                request_id = str(self._request_counter + 1)
                self.llm_engine.add_request(request_id, prompt, sampling_params)
                self._request_counter += 1
                request_ids.append(request_id)
        except BaseException:
            self.llm_engine.abort_request(request_ids)
            raise
        return request_ids

    def _run_engine(
        self, request_ids: list[str], use_tqdm: bool
    ) -> list[RequestOutput]:
        """Step the engine until it is done; outputs in ``request_ids`` order."""
        outputs: dict[str, RequestOutput] = {}
        with tqdm(
            total=len(request_ids), desc="Processed prompts", disable=not use_tqdm
        ) as progress:
            try:
                while self.llm_engine.has_unfinished_requests():
                    for output in self.llm_engine.step():
                        outputs[output.request_id] = output
                        progress.update(1)
            except BaseException:
                # an interrupted call leaves nothing behind for the next one
                self.llm_engine.abort_request(request_ids)
                raise
        return [outputs[request_id] for request_id in request_ids]
