"""Validating the names a user types: architectures, modules, classes."""

from __future__ import annotations

import keyword
import re

from scaffold.errors import ScaffoldError
from scaffold.ordering import split_family

_WORD_BREAK = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def check_arch(arch: str, what: str = "ARCH") -> str:
    """An architecture or class: an identifier starting with an upper-case letter."""
    if not arch.isidentifier() or not arch[:1].isupper():
        raise ScaffoldError(
            f"{what} {arch!r} must be a Python identifier starting with an "
            "upper-case letter, e.g. MistralForCausalLM"
        )
    return arch


def check_module(module: str) -> str:
    """A model module is a lower-case identifier, not a keyword, never a path."""
    if "/" in module or "\\" in module or module.endswith(".py"):
        raise ScaffoldError(
            f"--module {module!r} is a path; give the module name only, e.g. 'mistral'"
        )
    if (
        not module.isidentifier()
        or module != module.lower()
        or keyword.iskeyword(module)
    ):
        raise ScaffoldError(
            f"--module {module!r} must be a lower-case Python identifier that is "
            "not a keyword, e.g. 'mistral'"
        )
    return module


def family_of(arch: str) -> str:
    """The family stem of an architecture: ``MistralForCausalLM`` -> ``Mistral``."""
    return split_family(arch)[0]


def default_module(arch: str) -> str:
    """snake_case of the family stem: ``FooBarForCausalLM`` -> ``foo_bar``."""
    words = _WORD_BREAK.sub("_", family_of(arch)).lower()
    return re.sub(r"_+", "_", words).strip("_")
