"""The model registry: which architecture name maps to which implementation.

Whenever you add an architecture here, also add a row to
``docs/models/supported_models.md`` and an example to ``tests/models/registry.py``
(``scaffold new-model`` does all three; ``scaffold check`` keeps them in sync).
Each dict maps ``HF architecture -> (module under this package, class name)``.
"""

from __future__ import annotations

import difflib
import importlib
import logging
from collections.abc import Iterable, KeysView
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

_TEXT_GENERATION_MODELS = {
    # [Decoder-only]
    "AquilaForCausalLM": ("llama", "LlamaForCausalLM"),  # AquilaChat2
    "AquilaModel": ("llama", "LlamaForCausalLM"),
    "InternLM3ForCausalLM": ("llama", "LlamaForCausalLM"),
    # For decapoda-research/llama-*
    "LLaMAForCausalLM": ("llama", "LlamaForCausalLM"),
    "LlamaForCausalLM": ("llama", "LlamaForCausalLM"),
    "Qwen2ForCausalLM": ("qwen2", "Qwen2ForCausalLM"),
    "XverseForCausalLM": ("llama", "LlamaForCausalLM"),
}

_EMBEDDING_MODELS: dict[str, tuple[str, str]] = {}

_CROSS_ENCODER_MODELS: dict[str, tuple[str, str]] = {}

_MULTIMODAL_MODELS: dict[str, tuple[str, str]] = {
    "LlavaForConditionalGeneration": ("llava", "LlavaForConditionalGeneration"),
}

# No _SPECULATIVE_DECODING_MODELS: this engine has no speculative decoding,
# so its tree offers no such kind (`new-model --kind speculative` refuses).
_VLLM_MODELS = {
    **_TEXT_GENERATION_MODELS,
    **_EMBEDDING_MODELS,
    **_CROSS_ENCODER_MODELS,
    **_MULTIMODAL_MODELS,
}

_MODELS_PACKAGE = __name__.rsplit(".", 1)[0]


@dataclass(frozen=True)
class _LazyRegisteredModel:
    """An implementation named by module and class, imported on first use.

    Registering by string keeps importing the registry cheap and lets a plugin
    register models without importing torch code in every process.
    """

    module_name: str
    class_name: str

    def load_model_cls(self) -> type:
        """Import the module and return the class."""
        module = importlib.import_module(self.module_name)
        return getattr(module, self.class_name)


@dataclass(frozen=True)
class _RegisteredModel:
    """An implementation registered as an already imported class."""

    model_cls: type

    def load_model_cls(self) -> type:
        """Return the class itself."""
        return self.model_cls


_Registered = _LazyRegisteredModel | _RegisteredModel


@dataclass
class _ModelRegistry:
    """Architecture name -> implementation, with vLLM's semantics."""

    models: dict[str, _Registered] = field(default_factory=dict)

    def get_supported_archs(self) -> KeysView[str]:
        """A live view of every registered architecture name."""
        return self.models.keys()

    def register_model(self, model_arch: str, model_cls: Any) -> None:
        """Register ``model_cls`` (a ``nn.Module`` subclass or ``"module:Class"``).

        An existing architecture is overwritten with a warning: plugins
        legitimately replace in-tree implementations.
        """
        if not isinstance(model_arch, str):
            raise TypeError(
                f"`model_arch` should be a string, not a {type(model_arch)} "
                f"({model_arch!r})"
            )
        if isinstance(model_cls, str):
            parts = model_cls.split(":")
            if len(parts) != 2 or not all(parts):
                raise ValueError(
                    "Expected a string in the format `<module>:<class>`, "
                    f"got {model_cls!r}"
                )
            model: _Registered = _LazyRegisteredModel(*parts)
        elif isinstance(model_cls, type) and _is_torch_module(model_cls):
            model = _RegisteredModel(model_cls)
        else:
            raise TypeError(
                "`model_cls` should be a string or PyTorch model class, "
                f"not a {type(model_cls)} ({model_cls!r})"
            )
        if model_arch in self.models:
            logger.warning(
                "Model architecture %s is already registered, and will be "
                "overwritten by the new model class %s.",
                model_arch,
                model_cls,
            )
        self.models[model_arch] = model

    def resolve_model_cls(self, architectures: str | Iterable[str]) -> tuple[type, str]:
        """Return ``(class, arch)`` for the first architecture that loads.

        Architectures are tried in the config's order. Registered ones whose
        import fails are reported with the import error, since that error
        (not "unsupported") is what a contributor needs to see.
        """
        archs = (
            [architectures] if isinstance(architectures, str) else list(architectures)
        )
        if not archs:
            raise ValueError("No model architectures are specified")
        failures: list[str] = []
        for arch in archs:
            model = self.models.get(arch)
            if model is None:
                continue
            try:
                return model.load_model_cls(), arch
            except Exception as exc:  # any import-time failure of a model file
                logger.exception("Error in loading model architecture '%s'", arch)
                failures.append(
                    f"{arch} ({_describe(model)}): {type(exc).__name__}: {exc}"
                )
        if failures:
            raise ValueError(
                f"Model architectures {archs} failed to be inspected. "
                "Please check the logs for more details. Import errors: "
                + "; ".join(failures)
            )
        raise ValueError(
            f"Model architectures {archs} are not supported for now. "
            f"Supported architectures: {list(self.get_supported_archs())}"
            + _suggestion(archs, self.get_supported_archs())
        )


def _is_torch_module(cls: type) -> bool:
    # Imported here so that importing the registry never pulls in torch.
    from torch import nn

    return issubclass(cls, nn.Module)


def _describe(model: _Registered) -> str:
    if isinstance(model, _LazyRegisteredModel):
        return f"module {model.module_name}"
    return f"class {model.model_cls.__qualname__}"


def _suggestion(archs: list[str], supported: Iterable[str]) -> str:
    matches = [
        match
        for arch in archs
        for match in difflib.get_close_matches(arch, list(supported), n=1)
    ]
    return f". Did you mean {matches[0]!r}?" if matches else ""


ModelRegistry = _ModelRegistry(
    {
        arch: _LazyRegisteredModel(f"{_MODELS_PACKAGE}.{module}", cls)
        for arch, (module, cls) in _VLLM_MODELS.items()
    }
)
