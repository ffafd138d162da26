"""Poolers of pooling models, with vLLM 0.33's names (``layers/pooler``).

A pooler turns the hidden states of a flat batch into one output per request:
``seqwise`` (one vector: ``embed``, ``classify``), ``tokwise`` (one row per
token), ``special.DispatchPooler`` (one of those per task), ``activations``.
"""

from vllm_stub.model_executor.layers.pooler.abstract import Pooler, PoolerOutput
from vllm_stub.model_executor.layers.pooler.seqwise import (
    ClassifierFn,
    pooler_for_classify,
    pooler_for_embed,
)
from vllm_stub.model_executor.layers.pooler.special import DispatchPooler
from vllm_stub.model_executor.layers.pooler.tokwise import (
    pooler_for_token_classify,
    pooler_for_token_embed,
)

__all__ = [
    "ClassifierFn",
    "DispatchPooler",
    "Pooler",
    "PoolerOutput",
    "pooler_for_classify",
    "pooler_for_embed",
    "pooler_for_token_classify",
    "pooler_for_token_embed",
]
