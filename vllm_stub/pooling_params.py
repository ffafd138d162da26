"""``PoolingParams``: what one pooling request asks of the pooler, as in vLLM."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PoolingParams:
    """Per-request pooling options.

    ``dimensions`` truncates an embedding (matryoshka models); ``use_activation``
    switches the head's activation (normalisation for embeddings, softmax or
    sigmoid for classification) on or off, ``None`` taking the model's default.
    ``task`` is set by the entry point (``"embed"``, ``"classify"``, ...).
    """

    dimensions: int | None = None
    use_activation: bool | None = None
    task: str | None = None

    def __post_init__(self) -> None:
        if self.dimensions is not None and self.dimensions < 1:
            raise ValueError(f"dimensions must be >= 1, got {self.dimensions}")

    def resolved(self, task: str, default_activation: bool | None) -> PoolingParams:
        """A copy for ``task`` with ``use_activation`` resolved (default on)."""
        use_activation = self.use_activation
        if use_activation is None:
            use_activation = True if default_activation is None else default_activation
        return PoolingParams(self.dimensions, use_activation, task)
