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
    """Wrap ``cls``'s ``__init__`` and ``forward`` unless they are wrapped already.

    vLLM's model files decorate subclasses of decorated classes (``Qwen3Model``
    of ``Qwen2Model``, ``MistralModel`` of ``LlamaModel``), so wrapping twice
    must not nest: one graph per model, made of its class's own ``forward``.
    """
    if not hasattr(cls.__init__, "builds_decode_graph"):
        cls.__init__ = _builds_decode_graph(cls.__init__)
    if not hasattr(cls.forward, "untraced"):
        cls.forward = _runs_decode_graph(cls.forward)
    return cls


def _builds_decode_graph(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        # the innermost wrapped __init__ (a decorated base's) gets here first
        if "_decode_graph" not in vars(self) and compiles_decode_steps(
            kwargs.get("vllm_config")
        ):
            forward = type(self).forward
            self._decode_graph = DecodeGraph(getattr(forward, "untraced", forward))

    __init__.builds_decode_graph = True  # type: ignore[attr-defined]
    return __init__


def _runs_decode_graph(forward: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(forward)
    def traced_forward(self: Any, *args: Any, **kwargs: Any) -> Any:
        graph = vars(self).get("_decode_graph")
        # a subclass's own forward calling super().forward runs this as written
        if graph is None or type(self).forward is not traced_forward:
            return forward(self, *args, **kwargs)
        return graph(self, *args, **kwargs)

    traced_forward.untraced = forward  # type: ignore[attr-defined]
    return traced_forward
