"""Fixtures for tests against the real vLLM release (DESIGN.md §9).

The release's source tree and its CPU-importable package come from
``tools/fetch_vllm.py`` and are cached outside the repository, so only the first
session pays for the download. When the package index cannot be reached (and
nothing is cached yet) every test here is skipped with the reason printed; any
other failure to fetch is an error.

- ``vllm_source``: the unpacked release tree (read-only: never edit it).
- ``vllm_site``: the folder to put on ``PYTHONPATH`` for ``import vllm``.
- ``upstream_tree``: a fresh temporary git copy of what scaffold reads and
  writes (``vllm/``, ``docs/``, ``tests/models/``, ``tools/``,
  ``pyproject.toml``, ``.pre-commit-config.yaml``), one commit deep, so a
  test can ``git diff`` it.
- ``vllm_python``: run Python code in a fresh process against real vLLM.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What scaffold needs from the release; docs/assets (33 MB of images) is not.
TREE_PARTS = (
    "vllm",
    "docs",
    "tests/models",
    "tools",
    "pyproject.toml",
    ".pre-commit-config.yaml",
)
IGNORE = shutil.ignore_patterns("__pycache__", "assets")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "scaffold tests",
    "GIT_AUTHOR_EMAIL": "tests@scaffold.invalid",
    "GIT_COMMITTER_NAME": "scaffold tests",
    "GIT_COMMITTER_EMAIL": "tests@scaffold.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def load_fetch_module() -> ModuleType:
    """``tools/fetch_vllm.py`` as a module (``tools/`` is not a package)."""
    path = ROOT / "tools" / "fetch_vllm.py"
    spec = importlib.util.spec_from_file_location("scaffold_tools_fetch_vllm", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


fetch = load_fetch_module()


def _fetched(step: Callable[[Path], Path]) -> Path:
    """Run a fetch step; skip (printing why) only when the index is unreachable."""
    try:
        return step(fetch.cache_dir())
    except fetch.IndexUnreachable as error:
        reason = f"vLLM {fetch.VERSION} not cached and the package index is "
        reason += f"unreachable: {error}"
        print(f"\nSKIP tests/upstream: {reason}", file=sys.stderr)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def vllm_source() -> Path:
    """The unpacked vLLM release tree (shared cache: do not modify)."""
    return _fetched(fetch.ensure_source)


@pytest.fixture(scope="session")
def vllm_site() -> Path:
    """The folder holding the importable ``vllm`` package and its requirements."""
    return _fetched(fetch.ensure_site)


def git(folder: Path, *args: str) -> str:
    """Run git in ``folder`` with a fixed identity; return its stdout."""
    done = subprocess.run(
        ["git", *args],
        cwd=folder,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


def make_git_copy(source: Path, target: Path) -> Path:
    """Copy the parts of ``source`` scaffold needs into ``target``; commit them."""
    target.mkdir(parents=True)
    for part in TREE_PARTS:
        origin, dest = source / part, target / part
        dest.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            shutil.copytree(origin, dest, ignore=IGNORE)
        else:
            shutil.copy2(origin, dest)
    git(target, "init", "-q")
    git(target, "add", "-A")
    git(target, "commit", "-q", "-m", f"vLLM {fetch.VERSION} (scaffold test copy)")
    return target


@pytest.fixture(scope="session")
def upstream_pristine(
    vllm_source: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """One committed copy per session; tests clone it (never edit this one)."""
    return make_git_copy(vllm_source, tmp_path_factory.mktemp("upstream") / "vllm")


@pytest.fixture
def upstream_tree(upstream_pristine: Path, tmp_path: Path) -> Path:
    """A fresh git clone of the release tree, clean at its only commit."""
    target = tmp_path / "vllm"
    git(tmp_path, "clone", "-q", str(upstream_pristine), str(target))
    return target


def changed_files(tree: Path) -> list[str]:
    """Paths changed, added or deleted since the tree's commit (``git status``)."""
    git(tree, "add", "-A", "--intent-to-add")
    return git(tree, "diff", "--name-only", "HEAD").split()


# Puts a tree's models folder behind the installed package's, so a file that
# scaffold generated there imports as ``vllm.model_executor.models.<name>``
# against the real (wheel) vLLM, with its relative imports resolved there.
MODELS_OVERLAY = """\
import vllm.model_executor.models as _models
_models.__path__.append({models!r})
"""


def run_vllm_python(
    code: str,
    site: Path,
    *,
    tree: Path | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with real vLLM importable.

    ``site`` goes first on ``PYTHONPATH``; ``-P`` keeps ``cwd`` off ``sys.path``
    (a tree copy there would shadow the installed ``vllm`` with its sources).
    With ``tree``, model files in the tree's ``vllm/model_executor/models``
    import as part of the installed package (installed files win on a name
    clash). Never raises on a non-zero exit; assert on ``returncode`` with the
    output in the message.
    """
    if tree is not None:
        models = str(tree / "vllm" / "model_executor" / "models")
        code = MODELS_OVERLAY.format(models=models) + code
    environment = {**os.environ, **(env or {})}
    paths = [str(site), environment.get("PYTHONPATH", "")]
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
    return subprocess.run(
        [sys.executable, "-P", "-c", code],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def vllm_python(vllm_site: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``vllm_python(code, tree=None, ...)``: :func:`run_vllm_python` on the site."""

    def run(code: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return run_vllm_python(code, vllm_site, **kwargs)  # type: ignore[arg-type]

    return run
