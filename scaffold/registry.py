"""What a tree's registry holds: the kinds, and a view over its dicts.

Everything that knows how the registry's dicts are named and what their
entries mean lives here, so supporting a new kind is a change to
:data:`KINDS` alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from scaffold.pydict import DictLiteral, Entry, SourceDicts


@dataclass(frozen=True)
class Kind:
    """A ``--kind``: the registry dict it adds to and its examples dict."""

    name: str
    registry_dict: str
    examples_dict: str


def _kind(name: str, stem: str) -> Kind:
    return Kind(name, f"_{stem}_MODELS", f"_{stem}_EXAMPLE_MODELS")


# --kind -> its dicts, DESIGN §4.
KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        _kind("text-generation", "TEXT_GENERATION"),
        _kind("embedding", "EMBEDDING"),
        _kind("cross-encoder", "CROSS_ENCODER"),
        _kind("multimodal", "MULTIMODAL"),
        _kind("speculative", "SPECULATIVE_DECODING"),
    )
}


class RegistryView:
    """The registry file's dicts, read as registrations of architectures."""

    def __init__(self, parsed: SourceDicts) -> None:
        self.parsed = parsed

    @cached_property
    def dicts(self) -> dict[str, DictLiteral]:
        """The kind dicts, plus any other dict holding a ``("module", "Class")``.

        That leaves out dicts such as upstream's ``_PREVIOUSLY_SUPPORTED_MODELS``
        (architecture -> version string), which register nothing.
        """
        kind_dicts = {kind.registry_dict for kind in KINDS.values()}
        return {
            name: literal
            for name, literal in self.parsed.dicts.items()
            if name in kind_dicts or any(entry.pair for entry in literal.entries)
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
        """The kind dicts that register ``arch``, in the order of :data:`KINDS`."""
        names = [kind.registry_dict for kind in KINDS.values()]
        return dicts_holding(self.parsed, names, arch)

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


def example_dict_names() -> list[str]:
    """The examples dicts of every kind, in the order of :data:`KINDS`."""
    return [kind.examples_dict for kind in KINDS.values()]
