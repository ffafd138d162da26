"""Plan ``scaffold new-plugin``: an out-of-tree model package for one engine.

The package registers its architecture from a general-plugin entry point,
lazily, by a ``"module:Class"`` string (DESIGN §1, §7). It targets one engine
(``--engine``: ``vllm``, the default, or ``vllm_stub``): its model module is
rendered for that engine, ``register()`` imports that engine's
``ModelRegistry``, and the entry point is in that engine's group only. So the
other engine never loads it: a vllm_stub plugin inside vLLM (or the reverse)
would fail on its first import and stop that engine from starting.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass
from pathlib import Path

from scaffold.errors import ScaffoldError
from scaffold.modelfile import render, todo_items
from scaffold.modelfile.conventions import default_conventions
from scaffold.names import default_module, family_of
from scaffold.plan import Plan
from scaffold.textio import read_source

ENGINES = ("vllm", "vllm_stub")
# The generated test: vLLM is inspected (serving it needs a GPU build), the
# stub runs the model against transformers.
TEST_TEMPLATES = {
    "vllm": "plugin_test_vllm.py.jinja",
    "vllm_stub": "plugin_test.py.jinja",
}


@dataclass(frozen=True)
class NewPlugin:
    """What the user asked for, validated."""

    name: str
    arch: str
    out: Path
    engine: str = "vllm"
    force: bool = False


def check_package_name(name: str) -> str:
    """A distribution and package name: a lower-case identifier, not a keyword."""
    if not name.isidentifier() or name != name.lower() or keyword.iskeyword(name):
        raise ScaffoldError(
            f"NAME {name!r} must be a lower-case Python identifier that is not a "
            "keyword, e.g. my_llama_plugin"
        )
    if name in ENGINES:
        raise ScaffoldError(
            f"NAME {name!r} is an engine's package; installed, the plugin would "
            "shadow it (pick another, e.g. my_llama_plugin)"
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
    if request.engine not in ENGINES:
        raise ScaffoldError(
            f"--engine {request.engine!r} must be one of: {', '.join(ENGINES)}"
        )
    module = default_module(request.arch)
    variables = {
        "name": request.name,
        "package": request.engine,
        "family": family_of(request.arch),
        "class_name": request.arch,
        "arch": request.arch,
        "module": module,
        "kind": "text-generation",
        "pooling": False,
        # No tree to read conventions from: the engine's defaults.
        **default_conventions(request.engine).variables(),
    }
    files = {
        out / "pyproject.toml": "plugin_pyproject.toml.jinja",
        out / request.name / "__init__.py": "plugin_init.py.jinja",
        out / request.name / f"{module}.py": "model.py.jinja",
        out / "tests" / f"test_{module}.py": TEST_TEMPLATES[request.engine],
    }
    # Paths and commands as the user types them from where they stand.
    plan = Plan(Path.cwd())
    for path, template in files.items():
        text = render(template, **variables)
        old = read_source(path) if path.is_file() else None
        plan.add(path, old.encode(old.text) if old else None, text)
        plan.checklist += [
            f"{plan.display(path)}:{line}: {item}" for line, item in todo_items(text)
        ]
    # A plain (not editable) --no-deps install, as CONTRIBUTING does: the
    # engine is installed already, and "./" makes pip read a folder, not a name.
    shown = plan.display(out)
    folder = shown if Path(shown).is_absolute() else f"./{shown}"
    plan.checklist.append(f"pip install --no-deps {folder} && pytest {shown}/tests")
    return plan
