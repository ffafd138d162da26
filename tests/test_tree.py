"""Tree discovery: --root, walking up from the cwd, and what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from scaffold.errors import ScaffoldError
from scaffold.tree import find_tree

ROOT = Path(__file__).resolve().parents[1]


def make_tree(folder: Path, package: str) -> Path:
    models = folder / package / "model_executor" / "models"
    models.mkdir(parents=True)
    (models / "registry.py").write_text("_TEXT_GENERATION_MODELS = {}\n")
    return folder


def test_embedded_tree_from_its_root_and_from_below():
    for start in (ROOT, ROOT / "vllm_stub" / "model_executor", ROOT / "docs"):
        tree = find_tree(cwd=start)
        assert (tree.root, tree.package) == (ROOT, "vllm_stub")
    assert find_tree(ROOT).registry_path.is_file()
    assert find_tree(ROOT).examples_path.is_file()
    assert find_tree(ROOT).docs_path.is_file()


@pytest.mark.parametrize("package", ["vllm", "my_engine"])
def test_any_package_holding_a_registry(tmp_path, package):
    make_tree(tmp_path, package)
    tree = find_tree(tmp_path)
    assert tree.package == package
    assert tree.module_path("foo") == tmp_path / package / (
        "model_executor/models/foo.py"
    )
    assert not tree.docs_path.exists()  # reported by commands, not fatal here


def test_no_tree_is_an_error_naming_the_folder(tmp_path):
    with pytest.raises(ScaffoldError, match="no \\*/model_executor") as err:
        find_tree(tmp_path)
    assert str(tmp_path) in str(err.value)
    with pytest.raises(ScaffoldError, match="or pass --root"):
        find_tree(cwd=tmp_path)


def test_two_packages_are_ambiguous(tmp_path):
    make_tree(tmp_path, "vllm")
    make_tree(tmp_path, "vllm_stub")
    with pytest.raises(ScaffoldError, match="several packages"):
        find_tree(tmp_path)


def test_configured_key(tmp_path):
    make_tree(tmp_path, "vllm")
    assert find_tree(tmp_path).configured_key() is None
    (tmp_path / "pyproject.toml").write_text('[tool.scaffold]\nkey = "ascii"\n')
    assert find_tree(tmp_path).configured_key() == "ascii"
