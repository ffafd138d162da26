"""``support_torch_compile``: vLLM's model-class decorator, a no-op here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

_T = TypeVar("_T", bound=type)


def support_torch_compile(
    cls: _T | None = None, **_options: Any
) -> _T | Callable[[_T], _T]:
    """Return the class unchanged; usable bare or with vLLM's keyword options.

    vLLM uses the options (``dynamic_arg_dims``, ``shape_invariants``...) to set up
    ``torch.compile``; this engine runs eagerly, so they are accepted and ignored.
    """
    if cls is not None:
        return cls
    return lambda inner: inner
