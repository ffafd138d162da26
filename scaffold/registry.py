"""What a tree's registry holds: its kinds, and a view over its dicts.

Kinds are discovered from the tree, not hard-coded (DESIGN §4): a registry
dict ``_X_MODELS`` whose entries are ``("module", "Class")`` pairs is kind
``x`` (lower case, ``_`` -> ``-``) and pairs with ``_X_EXAMPLE_MODELS`` in
``tests/models/registry.py``. Everything that knows how the registry's dicts
are named and what their entries mean lives here, so supporting a new kind
is a change to this module alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from scaffold.errors import ScaffoldError
from scaffold.pydict import DictLiteral, Entry, SourceDicts

_KIND_DICT = re.compile(r"_(?P<stem>[A-Z][A-Z0-9_]*)_MODELS")

# Registry dicts that register architectures but are no kind a contributor
# adds to: the merge of all kinds, and the Transformers-backend lists.
_NOT_KINDS = re.compile(r"_VLLM_MODELS|_TRANSFORMERS_\w*")

# Old or short --kind names -> the dict stem they mean, used when the tree
# has no dict of that name itself. vLLM renamed _CROSS_ENCODER_MODELS to
# _SEQUENCE_CLASSIFICATION_MODELS (cross-encoders are sequence classifiers).
ALIASES = {
    "speculative": "SPECULATIVE_DECODING",
    "cross-encoder": "SEQUENCE_CLASSIFICATION",
}

# Kinds whose models are pooling models (vLLM's runner="pooling"); their docs
# tables live in docs/models/pooling_models/<file>.md.
POOLING_DOCS = {
    "embedding": "embed",
    "late-interaction": "token_embed",
    "reward": "reward",
    "token-classification": "token_classify",
    "sequence-classification": "classify",
    "cross-encoder": "classify",
}


@dataclass(frozen=True)
class Kind:
    """A ``--kind``: the registry dict it adds to and its examples dict."""

    name: str
    registry_dict: str
    examples_dict: str

    @property
    def is_pooling(self) -> bool:
        """Pooling models (embedding, classification, reward, ...)."""
        return self.name in POOLING_DOCS

    @property
    def pooling_docs(self) -> str | None:
        """The stem of its ``docs/models/pooling_models/*.md`` page, if pooling."""
        return POOLING_DOCS.get(self.name)


def kind_of_dict(name: str, literal: DictLiteral) -> Kind | None:
    """The kind a registry dict is, or None when it is no kind dict."""
    match = _KIND_DICT.fullmatch(name)
    if match is None or _NOT_KINDS.fullmatch(name):
        return None
    if literal.entries and not any(entry.pair for entry in literal.entries):
        return None  # e.g. _PREVIOUSLY_SUPPORTED_MODELS: arch -> version string
    stem = match["stem"]
    return Kind(stem.lower().replace("_", "-"), name, f"_{stem}_EXAMPLE_MODELS")


class RegistryView:
    """The registry file's dicts, read as registrations of architectures."""

    def __init__(self, parsed: SourceDicts) -> None:
        self.parsed = parsed

    @cached_property
    def kinds(self) -> dict[str, Kind]:
        """The kinds of this registry, by ``--kind`` name, in file order."""
        found = (kind_of_dict(n, lit) for n, lit in self.parsed.dicts.items())
        return {kind.name: kind for kind in found if kind is not None}

    def kind(self, name: str) -> Kind:
        """The kind called ``name`` (or an alias of one); ScaffoldError if none."""
        if name in self.kinds:
            return self.kinds[name]
        wanted = f"_{ALIASES.get(name) or name.upper().replace('-', '_')}_MODELS"
        for kind in self.kinds.values():
            if kind.registry_dict == wanted:
                return kind
        if wanted in self.parsed.non_dicts:
            self.parsed.require(wanted)  # says it is no dict literal, and where
        raise ScaffoldError(
            f"unknown --kind {name!r}: no module-level dict {wanted} "
            f"(this registry has: {', '.join(self.kinds) or 'no kinds'})"
        )

    @cached_property
    def dicts(self) -> dict[str, DictLiteral]:
        """Every dict that registers architectures: kinds, merges, backends.

        That leaves out dicts such as upstream's ``_PREVIOUSLY_SUPPORTED_MODELS``
        (architecture -> version string), which register nothing.
        """
        kind_dicts = {kind.registry_dict for kind in self.kinds.values()}
        return {
            name: literal
            for name, literal in self.parsed.dicts.items()
            if name in kind_dicts or any(entry.pair for entry in literal.entries)
        }

    @cached_property
    def kind_dicts(self) -> dict[str, DictLiteral]:
        """The kind dicts alone: what ``check`` orders and ``--fix`` sorts."""
        return {
            kind.registry_dict: self.parsed.dicts[kind.registry_dict]
            for kind in self.kinds.values()
        }

    @cached_property
    def registered(self) -> dict[str, Entry]:
        """Every registered architecture (its first entry wins)."""
        registered: dict[str, Entry] = {}
        for literal in self.dicts.values():
            for entry in literal.entries:
                registered.setdefault(entry.key, entry)
        return registered

    def kind_dicts_holding(self, arch: str) -> list[str]:
        """The kind dicts that register ``arch``, in file order."""
        return dicts_holding(self.parsed, list(self.kind_dicts), arch)

    def example_dicts(self) -> list[str]:
        """The examples dicts the kinds pair with, in file order."""
        return [kind.examples_dict for kind in self.kinds.values()]

    def modules_used(self) -> set[str]:
        """Modules that some registry entry (of any dict) points at."""
        return {
            entry.pair[0]
            for literal in self.parsed.dicts.values()
            for entry in literal.entries
            if entry.pair
        }

    def classes_from(self, module: str) -> list[str]:
        """The classes registered from ``module``, in registry order."""
        return [
            entry.pair[1]
            for literal in self.parsed.dicts.values()
            for entry in literal.entries
            if entry.pair and entry.pair[0] == module
        ]


def dicts_holding(parsed: SourceDicts, names: list[str], key: str) -> list[str]:
    """Which of the dicts ``names`` in ``parsed`` have an entry ``key``."""
    return [
        name for name in names if name in parsed.dicts and parsed.dicts[name].find(key)
    ]
