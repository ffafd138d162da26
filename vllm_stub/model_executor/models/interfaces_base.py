"""The base interfaces of a model class, as in vLLM's ``interfaces_base.py``.

Unlike the mixins of ``interfaces``, these are checked structurally: a class
is a vLLM model when its ``__init__`` takes ``vllm_config`` and it has
``embed_input_ids`` and a ``forward(input_ids, positions, ...)``; a pooling
model is one that also says ``is_pooling_model = True``.
"""

import inspect
from collections.abc import Callable
from typing import Any, ClassVar, Literal, TypeVar

from torch import nn

SequencePoolingType = Literal["CLS", "LAST", "MEAN"]
TokenPoolingType = Literal["ALL", "STEP"]

_T = TypeVar("_T", bound=type[nn.Module])


def _supports_kw(fn: Callable[..., Any], name: str) -> bool:
    params = inspect.signature(fn).parameters
    return name in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()
    )


def is_vllm_model(model: type | object) -> bool:
    """Whether ``model`` (a class or an instance) has vLLM's model contract."""
    forward = getattr(model, "forward", None)
    return (
        _supports_kw(model.__init__, "vllm_config")
        and callable(getattr(model, "embed_input_ids", None))
        and callable(forward)
        and all(_supports_kw(forward, kw) for kw in ("input_ids", "positions"))
    )


def is_text_generation_model(model: type | object) -> bool:
    """Whether ``model`` is a vLLM model with ``compute_logits``."""
    return is_vllm_model(model) and callable(getattr(model, "compute_logits", None))


class VllmModelForPooling:
    """What a pooling model declares: the flag, default pooling, a ``pooler``.

    vLLM's is a ``Protocol``; here it is a plain mixin with the same class
    variables, which the converted models of ``adapters`` inherit.
    """

    is_pooling_model: ClassVar[Literal[True]] = True
    default_seq_pooling_type: ClassVar[SequencePoolingType] = "LAST"
    default_tok_pooling_type: ClassVar[TokenPoolingType] = "ALL"
    attn_type: ClassVar[str] = "decoder"
    # the pooler is built in __init__ (``nn.Module``: set, not declared)
    pooler: Any


def is_pooling_model(model: type | object) -> bool:
    """Whether ``model`` (a class or an instance) is a vLLM pooling model."""
    return is_vllm_model(model) and bool(getattr(model, "is_pooling_model", False))


def default_pooling_type(
    *,
    seq_pooling_type: SequencePoolingType = "LAST",
    tok_pooling_type: TokenPoolingType = "ALL",
) -> Callable[[_T], _T]:
    """Class decorator setting ``default_{seq,tok}_pooling_type``."""

    def func(model: _T) -> _T:
        model.default_seq_pooling_type = seq_pooling_type
        model.default_tok_pooling_type = tok_pooling_type
        return model

    return func


def get_default_seq_pooling_type(model: type | object) -> SequencePoolingType:
    """The sequence pooling a model asks for (``"LAST"`` unless it says)."""
    return getattr(model, "default_seq_pooling_type", "LAST")


def get_default_tok_pooling_type(model: type | object) -> TokenPoolingType:
    """The token pooling a model asks for (``"ALL"`` unless it says)."""
    return getattr(model, "default_tok_pooling_type", "ALL")
