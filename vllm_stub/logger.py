"""``init_logger``: vLLM's loggers, with its ``*_once`` methods."""

from __future__ import annotations

import logging
from typing import Any


class VllmLogger(logging.LoggerAdapter):
    """A standard logger that can also log a message once per process."""

    _seen: set[tuple[str, int, str, tuple[Any, ...]]] = set()

    def _once(self, level: int, msg: str, args: tuple[Any, ...]) -> None:
        key = (self.logger.name, level, msg, args)
        if key not in self._seen:
            self._seen.add(key)
            self.log(level, msg, *args)

    def debug_once(self, msg: str, *args: Any, **_scope: Any) -> None:
        """``debug`` the first time this message and arguments are seen."""
        self._once(logging.DEBUG, msg, args)

    def info_once(self, msg: str, *args: Any, **_scope: Any) -> None:
        """``info`` the first time this message and arguments are seen."""
        self._once(logging.INFO, msg, args)

    def warning_once(self, msg: str, *args: Any, **_scope: Any) -> None:
        """``warning`` the first time this message and arguments are seen."""
        self._once(logging.WARNING, msg, args)


def first_line(error: BaseException) -> str:
    """The first non-blank line of ``error``'s message, else its type's name.

    Build and trace errors run to pages; a warning keeps the line that says
    what went wrong.
    """
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def init_logger(name: str) -> VllmLogger:
    """The logger for module ``name``."""
    return VllmLogger(logging.getLogger(name), {})
