"""A finding of ``scaffold check``: something out of order or out of sync."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Finding:
    """One problem at ``path:line`` about architecture ``arch``.

    Pure checkers leave ``path`` empty; the command fills it in with
    :meth:`at`.
    """

    code: str
    line: int
    arch: str
    message: str
    path: str = ""
    # The other architecture involved (the entry above an `order` finding, the
    # first occurrence of a `duplicate`): `--since` keeps a finding when either
    # architecture is new.
    related: str = ""

    def at(self, path: str) -> Finding:
        """Return a copy located in ``path``."""
        return replace(self, path=path)

    def to_json(self) -> dict[str, Any]:
        """The JSON shape of DESIGN §3: code, path, line, arch, message."""
        data = asdict(self)
        return {k: data[k] for k in ("code", "path", "line", "arch", "message")}

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.code}] {self.message}"
