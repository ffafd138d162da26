"""Which registered architectures the docs tables cover, and which they invent.

Pure functions over names already read from the tables and the registry;
``scaffold.check`` reads the pages and locates the findings.
"""

from __future__ import annotations

from collections.abc import Iterable

from scaffold.findings import Finding
from scaffold.pydict import Entry


def documented_archs(names: set[str], registered: dict[str, Entry]) -> set[str]:
    """The registered architectures that docs rows naming ``names`` document.

    Matched ignoring case (``ExaoneMoE`` and ``ExaoneMoe`` are one model to a
    reader), and a row may name the class instead of the architecture
    (upstream's ``NVLM_D_Model`` row documents ``"NVLM_D": (..., "NVLM_D_Model")``)
    when no architecture has that name.
    """
    folded = {name.casefold() for name in names}
    return {
        arch
        for arch, entry in registered.items()
        if arch.casefold() in folded
        or (entry.pair and entry.pair[1] in names and entry.pair[1] not in registered)
    }


def docs_extra_findings(
    docs_archs: Iterable[tuple[str, int]], registered: dict[str, Entry]
) -> list[Finding]:
    """A docs row naming an architecture that no registry dict has (by name,
    case ignored, or as the class of a registered entry)."""
    known = {arch.casefold() for arch in registered} | {
        entry.pair[1].casefold() for entry in registered.values() if entry.pair
    }
    return [
        Finding(
            "docs-extra",
            line,
            arch,
            f"docs name {arch}, which is registered nowhere "
            "(remove the row, or register the architecture)",
        )
        for arch, line in docs_archs
        if arch.casefold() not in known
    ]
