"""Bad input: one error type, reported as one line ``path:line: message``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class ScaffoldError(Exception):
    """Input the tool refuses; the CLI prints it as one line and exits 2.

    Pure editors do not know which file they were given, so they raise with
    ``path=None`` and the caller that read the file attaches it with
    :meth:`at`.
    """

    def __init__(
        self, message: str, *, path: str | None = None, line: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def at(self, path: str) -> ScaffoldError:
        """Return this error with ``path`` filled in (keeps an existing path)."""
        if self.path is None:
            self.path = path
        return self

    def __str__(self) -> str:
        where = self.path or "scaffold"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}"


@contextlib.contextmanager
def located(path: str) -> Iterator[None]:
    """Attach ``path`` to any ScaffoldError raised by the pure code inside."""
    try:
        yield
    except ScaffoldError as error:
        raise error.at(path) from None
