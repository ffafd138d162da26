"""General plugins: entry points that register out-of-tree models.

Like vLLM, every process that builds an engine calls
:func:`load_general_plugins` once; a plugin's function must therefore be
re-entrant, and a broken plugin is logged instead of stopping the engine.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_PLUGINS_GROUP = "vllm_stub.general_plugins"

# Guards the once-per-process rule.
plugins_loaded = False


def allowed_plugin_names() -> list[str] | None:
    """Names listed in ``VLLM_PLUGINS``; ``None`` (unset) allows every plugin.

    An empty value allows none. Names are stripped, so ``"a, b"`` works.
    """
    value = os.environ.get("VLLM_PLUGINS")
    if value is None:
        return None
    return [name.strip() for name in value.split(",") if name.strip()]


def load_plugins_by_group(group: str) -> dict[str, Callable[[], Any]]:
    """Load the entry points of ``group`` allowed by ``VLLM_PLUGINS``.

    Returns ``{name: function}``; an entry point that fails to load is logged
    with its name and left out.
    """
    discovered = entry_points(group=group)
    allowed = allowed_plugin_names()
    if allowed is not None:
        missing = sorted(set(allowed) - {plugin.name for plugin in discovered})
        if missing:
            logger.warning(
                "VLLM_PLUGINS names not found in group %s: %s", group, missing
            )
    plugins: dict[str, Callable[[], Any]] = {}
    for plugin in discovered:
        if allowed is not None and plugin.name not in allowed:
            continue
        try:
            plugins[plugin.name] = plugin.load()
        except Exception:
            logger.exception("Failed to load plugin %s", plugin.name)
    return plugins


def load_general_plugins() -> None:
    """Run every allowed general plugin once per process."""
    global plugins_loaded
    if plugins_loaded:
        return
    plugins_loaded = True
    for name, register in load_plugins_by_group(DEFAULT_PLUGINS_GROUP).items():
        try:
            register()
        except Exception:
            logger.exception("Plugin %s failed while registering", name)
