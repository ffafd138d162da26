"""Rendering the two kinds of entry value: registry tuples and HF examples.

Both are "an opener, a few items, a closer", so one renderer serves both: the
entry is one line when that fits in the line length, else the exploded
ruff-format shape with one item per line and a magic trailing comma (which
keeps ``ruff format`` from joining it back).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

LINE_LENGTH = 88


@dataclass(frozen=True)
class EntryValue:
    """A value written as ``opener item, item closer``, e.g. ``("m", "C")``."""

    opener: str
    items: tuple[str, ...]
    closer: str

    def inline(self) -> str:
        """The value on one line."""
        return f"{self.opener}{', '.join(self.items)}{self.closer}"


def quote(text: str) -> str:
    """A double-quoted Python string literal for ``text``.

    JSON's escapes (``\\"``, ``\\\\``, ``\\n``, ``\\uXXXX``) are all valid Python.
    """
    return json.dumps(text, ensure_ascii=False)


def registry_value(module: str, class_name: str) -> EntryValue:
    """The registry value ``("module", "ClassName")``."""
    return EntryValue("(", (quote(module), quote(class_name)), ")")


def example_value(
    hf_name: str | None = None, *, trust_remote_code: bool = False
) -> EntryValue:
    """The examples value ``_HfExamplesInfo("org/name", ...)``.

    Without an ``hf_name`` the example is marked ``is_available_online=False``
    with an empty repo name, as DESIGN §5 asks.
    """
    items = [quote(hf_name or "")]
    if trust_remote_code:
        items.append("trust_remote_code=True")
    if not hf_name:
        items.append("is_available_online=False")
    return EntryValue("_HfExamplesInfo(", tuple(items), ")")


def render_entry(
    key: str, value: EntryValue, indent: str = "    ", width: int = LINE_LENGTH
) -> list[str]:
    """The lines (with ``\\n``) of ``"key": value,`` at ``indent``."""
    head = f"{indent}{quote(key)}: "
    one_line = f"{head}{value.inline()},"
    if len(one_line) <= width:
        return [one_line + "\n"]
    inner = indent + "    "
    return [
        f"{head}{value.opener}\n",
        *(f"{inner}{item},\n" for item in value.items),
        f"{indent}{value.closer},\n",
    ]
