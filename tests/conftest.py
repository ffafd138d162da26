"""Shared fixtures: temporary copies of source trees, file snapshots, and
commands run in fresh processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "vllm_tree"


def copy_embedded_tree(target: Path) -> Path:
    """The embedded tree's four places (package, docs, examples, config)."""
    shutil.copytree(
        ROOT / "vllm_stub",
        target / "vllm_stub",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copytree(ROOT / "docs", target / "docs")
    (target / "tests").mkdir()
    shutil.copytree(
        ROOT / "tests" / "models",
        target / "tests" / "models",
        ignore=shutil.ignore_patterns("__pycache__", "test_*.py"),
    )
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def copy_fixture_tree(target: Path) -> Path:
    """The quirky vLLM-shaped fixture."""
    shutil.copytree(FIXTURE, target, dirs_exist_ok=True)
    return target


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (bytes), keyed by relative path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.fixture
def embedded_tree(tmp_path: Path) -> Path:
    """A temporary copy of this repository's embedded tree."""
    return copy_embedded_tree(tmp_path / "tree")


@pytest.fixture
def fixture_tree(tmp_path: Path) -> Path:
    """A temporary copy of the quirky vLLM-shaped fixture tree."""
    return copy_fixture_tree(tmp_path / "vllm_tree")


@pytest.fixture
def take_snapshot() -> Callable[[Path], dict[str, bytes]]:
    """The :func:`snapshot` function, for tests that compare trees."""
    return snapshot


def run_command(
    command: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    pythonpath: Sequence[Path] = (),
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in a fresh process and capture its text output.

    ``python`` as the first word means this interpreter; ``pythonpath`` goes
    in front of ``PYTHONPATH`` (a tree's own package shadows the installed
    one); ``env`` adds variables. Never raises on a non-zero exit: tests
    assert on ``returncode`` with the output in the message.
    """
    words = [str(word) for word in command]
    if words[0] == "python":
        words[0] = sys.executable
    environment = {**os.environ, **(env or {})}
    if pythonpath:
        paths = [*map(str, pythonpath), environment.get("PYTHONPATH", "")]
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
    return subprocess.run(
        words, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def run() -> Callable[..., subprocess.CompletedProcess[str]]:
    """The :func:`run_command` function."""
    return run_command


@pytest.fixture
def imported_by() -> Callable[..., set[str]]:
    """Modules a fresh ``python -m scaffold ARGS`` imports (``-X importtime``)."""

    def imported(*args: str, cwd: Path | None = None) -> set[str]:
        done = run_command(
            ["python", "-X", "importtime", "-m", "scaffold", *args], cwd=cwd
        )
        assert "Traceback" not in done.stderr, done.stderr[-2000:]
        return {line.split("|")[-1].strip() for line in done.stderr.splitlines()}

    return imported


UPSTREAM_SUITE = Path(__file__).resolve().parent / "upstream"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test of ``tests/upstream`` is ``slow``: it needs the fetched vLLM
    release (minutes to fetch on a new machine, ~20 s per real-vLLM import)."""
    for item in items:
        if UPSTREAM_SUITE in item.path.parents:
            item.add_marker(pytest.mark.slow)
