"""Findings across files: registry vs docs vs examples vs model modules.

Pure functions over already-parsed structures; ``scaffold.check`` reads the
files and locates the findings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from scaffold.dict_model import Entry
from scaffold.findings import Finding


def missing_findings(
    registered: dict[str, Entry], present: Iterable[str], code: str, where: str
) -> list[Finding]:
    """``code`` for each registered architecture not in ``present`` (at its entry)."""
    known = set(present)
    return [
        Finding(
            code,
            entry.key_line,
            arch,
            f"{arch} is registered but has no {where} "
            "(run `scaffold new-model` for new archs, or add it by hand)",
        )
        for arch, entry in registered.items()
        if arch not in known
    ]


def docs_extra_findings(
    docs_archs: Iterable[tuple[str, int]], registered: dict[str, Entry]
) -> list[Finding]:
    """A docs row naming an architecture that no registry dict has."""
    return [
        Finding(
            "docs-extra",
            line,
            arch,
            f"docs name {arch}, which is registered nowhere "
            "(remove the row, or register the architecture)",
        )
        for arch, line in docs_archs
        if arch not in registered
    ]


def module_findings(
    registered: dict[str, Entry],
    classes_of: Callable[[str], dict[str, list[str]] | None],
    module_file: Callable[[str], str],
) -> list[Finding]:
    """``bad-entry``, ``module-missing`` and ``class-missing`` per registry entry.

    ``classes_of(module)`` gives the classes a module file defines, or None
    when the file does not exist.
    """
    findings = []
    for arch, entry in registered.items():
        if entry.pair is None:
            findings.append(
                Finding(
                    "bad-entry",
                    entry.key_line,
                    arch,
                    f'{arch}: value is not a ("module", "Class") pair of strings',
                )
            )
            continue
        module, class_name = entry.pair
        classes = classes_of(module)
        if classes is None:
            findings.append(
                Finding(
                    "module-missing",
                    entry.key_line,
                    arch,
                    f"{arch}: module file {module_file(module)} does not exist",
                )
            )
        elif class_name not in classes:
            findings.append(
                Finding(
                    "class-missing",
                    entry.key_line,
                    arch,
                    f"{arch}: {module_file(module)} does not define {class_name}",
                )
            )
    return findings
