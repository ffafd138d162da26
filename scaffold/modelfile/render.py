"""Render the jinja2 templates shipped as ``scaffold.templates``."""

from __future__ import annotations

import importlib.resources
import re

import jinja2

_TODO = re.compile(r"#\s*TODO\(scaffold\):\s*(?P<text>.+)$")


def _environment() -> jinja2.Environment:
    folder = importlib.resources.files("scaffold.templates")
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Python source, not HTML
    )


def render(template: str, **variables: object) -> str:
    """Render ``templates/<template>`` with ``variables`` (all must be given)."""
    return _environment().get_template(template).render(**variables)


def todo_items(source: str) -> list[tuple[int, str]]:
    """``(line, text)`` of every ``# TODO(scaffold): text`` marker in ``source``."""
    return [
        (number, match["text"].strip())
        for number, line in enumerate(source.splitlines(), start=1)
        if (match := _TODO.search(line))
    ]
