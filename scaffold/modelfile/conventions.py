"""Conventions a generated model file takes from its tree rather than from us.

A model file written into a tree must pass that tree's own hooks (DESIGN §9):
upstream vLLM wants the SPDX header its files carry and the transformers v5
name ``PreTrainedConfig`` (its forbidden-imports hook rejects
``PretrainedConfig``), while the embedded ``vllm_stub`` tree has no header and
imports the old name. So both are read from the tree's model files.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from scaffold.tree import Tree

# The transformers base config class: the v4 name and the v5 one (v5 keeps
# the v4 name as an alias, so either imports; trees pick one).
CONFIG_NAMES = ("PreTrainedConfig", "PretrainedConfig")
# `from transformers[.sub] import a, b` or `import (\n a,\n b,\n)`, indented
# or not. No `^` anchor: a literal start lets the regex engine skip ahead
# (10x faster on upstream's 7 MB of model files); `from transformers` in a
# string or comment is too rare to sway a count.
_TRANSFORMERS_IMPORT = re.compile(
    r"from[ \t]+transformers(?:\.[\w.]+)?[ \t]+import[ \t]*"
    r"(?P<names>\([^)]*\)|[^\n]*)"
)
_SPDX = re.compile(r"#\s*SPDX-")
_HEAD_CHARS = 4096  # where a file's leading comment block ends, at the latest
# How much of each model file to read: its header and its top-level imports
# (upstream's 7 MB of model files in full cost new-model ~35 ms more).
_SCAN_CHARS = 16384


@dataclass(frozen=True)
class Conventions:
    """What a model file copies from its tree."""

    spdx_header: str  # the leading ``# SPDX-...`` lines, joined; "" for none
    config_class: str  # the transformers config class name to import

    def variables(self) -> dict[str, str]:
        """The template variables these conventions fill."""
        return {"spdx_header": self.spdx_header, "config_class": self.config_class}


def default_conventions(package: str) -> Conventions:
    """The conventions for ``package`` when there is no tree to read them from.

    vLLM wants the v5 name (and requires transformers v5); the stub keeps the
    name every transformers release it supports (>= 4.48) has. No header: a
    file outside a tree (a plugin's) is its author's, not the vLLM project's.
    """
    name = "PreTrainedConfig" if package == "vllm" else "PretrainedConfig"
    return Conventions(spdx_header="", config_class=name)


def leading_spdx(text: str) -> str:
    """The ``# SPDX-...`` comment lines ``text`` starts with, joined by newlines.

    A shebang line may come first (as upstream's SPDX hook allows).
    """
    # The header is at the top: split only the start of a (long) model file.
    lines = text[:_HEAD_CHARS].splitlines()
    if lines and lines[0].startswith("#!"):
        lines = lines[1:]
    header: list[str] = []
    for line in lines:
        if not _SPDX.match(line):
            break
        header.append(line.rstrip())
    return "\n".join(header)


def imported_config_names(text: str) -> set[str]:
    """Which of :data:`CONFIG_NAMES` ``text`` imports from transformers."""
    found: set[str] = set()
    if not any(name in text for name in CONFIG_NAMES):
        return found  # most model files: a substring test is much cheaper
    for match in _TRANSFORMERS_IMPORT.finditer(text):
        names = re.findall(r"\w+", match["names"].split("#")[0])
        found.update(name for name in CONFIG_NAMES if name in names)
    return found


def conventions_of(texts: Iterable[str], package: str) -> Conventions:
    """The conventions the most of ``texts`` (a tree's model files) follow.

    The header is the most common leading SPDX block (ties: the first file's,
    so pass the registry first); the config class the one more files import
    (ties and none: :func:`default_conventions`).
    """
    default = default_conventions(package)
    headers: Counter[str] = Counter()
    names: Counter[str] = Counter()
    for text in texts:
        headers[leading_spdx(text)] += 1
        names.update(imported_config_names(text))
    header = headers.most_common(1)[0][0] if headers else default.spdx_header
    ranked = names.most_common()
    config_class = default.config_class
    if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
        config_class = ranked[0][0]
    return Conventions(spdx_header=header, config_class=config_class)


def tree_conventions(tree: Tree) -> Conventions:
    """The conventions of ``tree``'s registry and model files."""
    registry = tree.registry_path
    models = sorted(
        path
        for path in tree.models_dir.glob("*.py")
        if path not in (registry, tree.models_dir / "__init__.py")
    )

    def texts() -> Iterable[str]:
        for path in (registry, *models):
            try:
                with path.open(encoding="utf-8") as file:
                    yield file.read(_SCAN_CHARS)
            except (OSError, UnicodeDecodeError):
                continue  # an unreadable file has no say

    return conventions_of(texts(), tree.package)
