"""``support_torch_compile``: vLLM's model-class decorator.

vLLM compiles the decorated model's ``forward``; here its decode steps are
traced once and replayed (``decode_graph``), for the same reason: a step then
costs its kernels, not the Python calling them. vLLM's keyword options
(``dynamic_arg_dims``, ``shape_invariants``...) are accepted and ignored: the
batch size is left free by retracing once, not declared.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from vllm_stub.compilation.decode_graph import DecodeGraph, compiles_decode_steps

_T = TypeVar("_T", bound=type)


def support_torch_compile(
    cls: _T | None = None, **_options: Any
) -> _T | Callable[[_T], _T]:
    """Give the class's models a traced decode step; usable bare or with options.

    The class itself is returned, its ``__init__`` and ``forward`` wrapped: a
    model built with a ``vllm_config`` that compiles (see
    ``compiles_decode_steps``) runs ``forward`` through its own
    :class:`DecodeGraph`; any other runs it as written.
    """
    if cls is not None:
        return _with_decode_graph(cls)
    return _with_decode_graph


def _with_decode_graph(cls: _T) -> _T:
    init, forward = cls.__init__, cls.forward

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        if compiles_decode_steps(kwargs.get("vllm_config")):
            self._decode_graph = DecodeGraph(forward)

    @functools.wraps(forward)
    def traced_forward(self: Any, *args: Any, **kwargs: Any) -> Any:
        graph = self.__dict__.get("_decode_graph")
        if graph is None:
            return forward(self, *args, **kwargs)
        return graph(self, *args, **kwargs)

    cls.__init__ = __init__
    cls.forward = traced_forward
    return cls
