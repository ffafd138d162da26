"""The supported-models markdown tables: parse (``table``), edit, order.

The API other packages use; ``table`` scans headings and tables, ``locate``
finds the architecture tables and a kind's table, ``edit`` inserts and
removes rows, ``order`` checks and sorts them, ``coverage`` compares their
architectures with the registry's.
"""

from __future__ import annotations

from scaffold.docs.coverage import docs_extra_findings, documented_archs
from scaffold.docs.edit import NewRow, insert_row, remove_arch
from scaffold.docs.locate import locate_table, named_archs
from scaffold.docs.order import check_tables, sort_tables

__all__ = [
    "NewRow",
    "check_tables",
    "docs_extra_findings",
    "documented_archs",
    "insert_row",
    "locate_table",
    "named_archs",
    "remove_arch",
    "sort_tables",
]
