"""Plan ``scaffold new-plugin``: an out-of-tree model package for ``vllm_stub``.

The package registers its architecture from a general-plugin entry point,
lazily, by a ``"module:Class"`` string (DESIGN §1). It targets ``vllm_stub``
because the model module is rendered for it; ``register()`` therefore imports
``ModelRegistry`` from that same package rather than trying ``vllm`` first --
a vllm_stub model registered with vLLM could never run there.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass
from pathlib import Path

from scaffold.errors import ScaffoldError
from scaffold.modelfile import render, todo_items
from scaffold.names import default_module, family_of
from scaffold.plan import Plan
from scaffold.textio import read_source

ENGINE_PACKAGE = "vllm_stub"


@dataclass(frozen=True)
class NewPlugin:
    """What the user asked for, validated."""

    name: str
    arch: str
    out: Path
    force: bool = False


def check_package_name(name: str) -> str:
    """A distribution and package name: a lower-case identifier, not a keyword."""
    if not name.isidentifier() or name != name.lower() or keyword.iskeyword(name):
        raise ScaffoldError(
            f"NAME {name!r} must be a lower-case Python identifier that is not a "
            "keyword, e.g. my_llama_plugin"
        )
    return name


def plan_new_plugin(request: NewPlugin) -> Plan:
    """Every file of the plugin package; ScaffoldError if ``out`` is in the way."""
    out = request.out
    if out.exists() and not out.is_dir():
        raise ScaffoldError("is not a folder (pick another --out)", path=str(out))
    if out.is_dir() and any(out.iterdir()) and not request.force:
        raise ScaffoldError(
            "exists and is not empty (pick another --out, or --force to "
            "overwrite the plugin's files in it)",
            path=str(out),
        )
    module = default_module(request.arch)
    variables = {
        "name": request.name,
        "package": ENGINE_PACKAGE,
        "family": family_of(request.arch),
        "class_name": request.arch,
        "arch": request.arch,
        "module": module,
    }
    files = {
        out / "pyproject.toml": "plugin_pyproject.toml.jinja",
        out / request.name / "__init__.py": "plugin_init.py.jinja",
        out / request.name / f"{module}.py": "model.py.jinja",
        out / "tests" / f"test_{module}.py": "plugin_test.py.jinja",
    }
    plan = Plan(out.parent)
    for path, template in files.items():
        text = render(template, **variables)
        old = read_source(path) if path.is_file() else None
        plan.add(path, old.encode(old.text) if old else None, text)
        plan.checklist += [
            f"{plan.display(path)}:{line}: {item}" for line, item in todo_items(text)
        ]
    plan.checklist.append(
        f"pip install -e {plan.display(out)} && pytest {plan.display(out)}/tests"
    )
    return plan
