"""The supported-models markdown tables: parse (``table``), edit, order.

The API other packages use; ``table`` scans headings and tables, ``edit``
inserts and removes rows, ``order`` checks and sorts them.
"""

from __future__ import annotations

from scaffold.docs.edit import NewRow, insert_row, remove_arch
from scaffold.docs.order import check_tables, sort_tables
from scaffold.docs.table import locate_table, named_archs

__all__ = [
    "NewRow",
    "check_tables",
    "insert_row",
    "locate_table",
    "named_archs",
    "remove_arch",
    "sort_tables",
]
