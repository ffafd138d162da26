"""Capability mixins a model class declares, as in vLLM's ``interfaces.py``."""

from __future__ import annotations

from typing import ClassVar, Literal


class SupportsLoRA:
    """The model can take LoRA adapters; fused layers are named in the mapping."""

    supports_lora: ClassVar[Literal[True]] = True
    packed_modules_mapping: ClassVar[dict[str, list[str]]] = {}
    embedding_modules: ClassVar[dict[str, str]] = {}


class SupportsPP:
    """The model can be split into pipeline stages (``make_layers``, ...)."""

    supports_pp: ClassVar[Literal[True]] = True
