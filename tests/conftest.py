"""Shared fixtures: temporary copies of source trees, and file snapshots."""

from __future__ import annotations

import shutil
from collections.abc import Callable
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
