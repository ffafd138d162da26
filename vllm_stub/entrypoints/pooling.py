"""``LLM.encode``/``embed``/``classify``: offline pooling, as vLLM's pooling mixin.

Every prompt is validated before any runs (a bad one raises ``ValueError``
and nothing is pooled); prompts then run in batches of ``max_num_seqs``, each
batch one forward through the model and its pooler.
"""

from __future__ import annotations

from collections.abc import Sequence

from tqdm.auto import tqdm

from vllm_stub.engine.llm_engine import LLMEngine, PromptType
from vllm_stub.outputs import (
    ClassificationRequestOutput,
    EmbeddingRequestOutput,
    PoolingRequestOutput,
)
from vllm_stub.pooling_params import PoolingParams

_TASK_API = {
    "embed": ("Embedding", "embed"),
    "token_embed": ("Embedding", "embed"),
    "classify": ("Classification", "classify"),
    "token_classify": ("Classification", "classify"),
}


class PoolingOfflineMixin:
    """The pooling methods of ``LLM``; needs ``llm_engine`` and a request counter."""

    llm_engine: LLMEngine
    _request_counter: int

    def encode(
        self,
        prompts: PromptType | Sequence[PromptType],
        pooling_params: PoolingParams | Sequence[PoolingParams] | None = None,
        *,
        use_tqdm: bool = True,
        pooling_task: str | None = None,
    ) -> list[PoolingRequestOutput]:
        """Pool each prompt for ``pooling_task``; outputs in prompt order."""
        self._verify_pooling_task(pooling_task)
        if isinstance(prompts, (str, dict)):
            prompts = [prompts]
        if pooling_params is None or isinstance(pooling_params, PoolingParams):
            pooling_params = [pooling_params or PoolingParams()] * len(prompts)
        if len(pooling_params) != len(prompts):
            raise ValueError(
                f"got {len(pooling_params)} pooling params for {len(prompts)} prompts"
            )
        engine = self.llm_engine
        pooler_config = engine.vllm_config.model_config.pooler_config
        token_ids = [
            engine.input_processor.tokenize(p, generating=False)[1] for p in prompts
        ]
        params = [
            p.resolved(pooling_task, pooler_config.use_activation)
            for p in pooling_params
        ]
        request_ids = [str(self._request_counter + i + 1) for i in range(len(prompts))]
        self._request_counter += len(prompts)
        batch = engine.vllm_config.scheduler_config.max_num_seqs
        outputs: list[PoolingRequestOutput] = []
        with tqdm(
            total=len(prompts), desc="Processed prompts", disable=not use_tqdm
        ) as progress:
            for start in range(0, len(prompts), batch):
                end = start + batch
                outputs += engine.pool(
                    request_ids[start:end], token_ids[start:end], params[start:end]
                )
                progress.update(len(outputs) - progress.n)
        return outputs

    def embed(
        self,
        prompts: PromptType | Sequence[PromptType],
        *,
        use_tqdm: bool = True,
        pooling_params: PoolingParams | Sequence[PoolingParams] | None = None,
    ) -> list[EmbeddingRequestOutput]:
        """One embedding per prompt, in ``.outputs.embedding``."""
        items = self.encode(
            prompts, pooling_params, use_tqdm=use_tqdm, pooling_task="embed"
        )
        return [EmbeddingRequestOutput.from_base(item) for item in items]

    def classify(
        self,
        prompts: PromptType | Sequence[PromptType],
        *,
        use_tqdm: bool = True,
        pooling_params: PoolingParams | Sequence[PoolingParams] | None = None,
    ) -> list[ClassificationRequestOutput]:
        """Class probabilities per prompt, in ``.outputs.probs``."""
        items = self.encode(
            prompts, pooling_params, use_tqdm=use_tqdm, pooling_task="classify"
        )
        return [ClassificationRequestOutput.from_base(item) for item in items]

    def _verify_pooling_task(self, pooling_task: str | None) -> None:
        if self.llm_engine.vllm_config.model_config.runner_type != "pooling":
            api = _TASK_API.get(pooling_task or "", ("", "encode"))[1]
            raise ValueError(
                f"LLM.{api}() is only supported for pooling models. Try passing "
                "LLM(..., runner='pooling') to use the model as a pooling model."
            )
        if pooling_task is None:
            raise ValueError(
                "pooling_task required for LLM.encode: use LLM.embed(...), "
                "LLM.classify(...) or pooling_task='embed'/'classify'/"
                "'token_embed'/'token_classify'"
            )
        supported = self.llm_engine.get_supported_tasks()
        if pooling_task not in supported:
            name, convert = _TASK_API.get(pooling_task, ("This", pooling_task))
            raise ValueError(
                f"{name} API is not supported by this model (its tasks: "
                f"{list(supported)}). Try converting the model using "
                f"LLM(..., convert={convert!r})."
            )
