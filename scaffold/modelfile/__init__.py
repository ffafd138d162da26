"""Model files: render one from a template, clone one, read what one defines."""

from __future__ import annotations

from scaffold.modelfile.classes import defined_classes, exported_names, importers_of
from scaffold.modelfile.clone import Clone, clone_model
from scaffold.modelfile.render import render, todo_items

__all__ = [
    "Clone",
    "clone_model",
    "defined_classes",
    "exported_names",
    "importers_of",
    "render",
    "todo_items",
]
