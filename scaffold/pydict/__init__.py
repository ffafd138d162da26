"""Python dict literals as text: parse them, model their sections, edit, check.

The API other packages use; the modules underneath are ``offsets`` (libcst
node positions), ``parse`` (source -> :class:`SourceDicts`), ``model`` (the
sections-and-entries model), ``edit`` (insert, remove, sort), ``check``
(order and duplicate findings) and ``values`` (rendering new entries).
"""

from __future__ import annotations

from scaffold.pydict.check import check_dicts, duplicate_findings, order_findings
from scaffold.pydict.edit import insert_entry, remove_entry, sort_dicts
from scaffold.pydict.model import DictLiteral, Entry, Section, SourceDicts
from scaffold.pydict.parse import parse_source
from scaffold.pydict.values import EntryValue, example_value, registry_value

__all__ = [
    "DictLiteral",
    "Entry",
    "EntryValue",
    "Section",
    "SourceDicts",
    "check_dicts",
    "duplicate_findings",
    "example_value",
    "insert_entry",
    "order_findings",
    "parse_source",
    "registry_value",
    "remove_entry",
    "sort_dicts",
]
