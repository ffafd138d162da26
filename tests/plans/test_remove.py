"""``scaffold remove`` end to end: ``new-model`` then ``remove`` is a no-op."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scaffold.commands.new_model import main as new_model
from scaffold.commands.remove import main as remove

MODELS = "vllm_stub/model_executor/models"
ALIAS = ["--alias-of", "llama:LlamaForCausalLM"]
FULL = ["--models", "Mistral", "--hf-example", "mistralai/Mistral-7B-v0.1"]

# How the architecture was added -> the files new-model creates for it.
ADDED = [
    pytest.param(FULL, {f"{MODELS}/mistral.py", "tests/models/test_mistral.py"}),
    pytest.param(ALIAS, set(), id="alias"),
    pytest.param(["--from", "llama"], {f"{MODELS}/mistral.py"}, id="clone"),
]


def lines_of(text: str) -> list[str]:
    """The nonempty lines of captured output."""
    return [line for line in text.splitlines() if line]


def assert_refused(argv: list[str], root: Path, snapshot, capsys) -> str:
    """``remove argv`` exits 2 with one line on stderr and writes nothing."""
    before = snapshot(root)
    capsys.readouterr()
    assert remove([*argv, "--root", str(root)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(lines_of(captured.err)) == 1
    assert snapshot(root) == before
    return captured.err


@pytest.mark.parametrize(("how", "created"), ADDED)
def test_new_model_then_remove_is_byte_identical(
    embedded_tree, take_snapshot, capsys, how, created
):
    before = take_snapshot(embedded_tree)
    root = ["--root", str(embedded_tree)]
    assert new_model(["MistralForCausalLM", *how, *root]) == 0
    added = take_snapshot(embedded_tree)
    assert set(added) - set(before) >= created
    capsys.readouterr()

    assert remove(["MistralForCausalLM", *root]) == 0
    assert take_snapshot(embedded_tree) == before
    out = capsys.readouterr().out
    for path in created:
        assert f"Deleted {path}" in out
    # Twice: the second run is refused and changes nothing.
    err = assert_refused(["MistralForCausalLM"], embedded_tree, take_snapshot, capsys)
    assert "MistralForCausalLM is not registered" in err


def test_an_architecture_in_two_kind_dicts_needs_kind(
    embedded_tree, take_snapshot, capsys
):
    before = take_snapshot(embedded_tree)
    root = ["--root", str(embedded_tree)]
    assert new_model(["MistralModel", *ALIAS, *root]) == 0
    assert new_model(["MistralModel", "--kind", "embedding", *ALIAS, *root]) == 0
    err = assert_refused(["MistralModel"], embedded_tree, take_snapshot, capsys)
    assert "say which with --kind" in err and "_EMBEDDING_MODELS" in err
    assert remove(["MistralModel", "--kind", "embedding", *root]) == 0
    assert remove(["MistralModel", "--kind", "text-generation", *root]) == 0
    assert take_snapshot(embedded_tree) == before


def test_removing_an_embedding_alias_keeps_the_causal_lm(embedded_tree, take_snapshot):
    """#14 (a): the alias goes; LlamaForCausalLM's own entry and llama.py stay."""
    before = take_snapshot(embedded_tree)
    root = ["--root", str(embedded_tree)]
    argv = ["LlamaForCausalLM", "--kind", "embedding", *ALIAS, *root]
    assert new_model(argv) == 0
    assert remove(["LlamaForCausalLM", "--kind", "embedding", *root]) == 0
    assert take_snapshot(embedded_tree) == before


def test_an_alias_never_deletes_the_file_it_points_at(embedded_tree, take_snapshot):
    """#14 (b): gemma.py was there before the alias, unregistered; it stays."""
    gemma = embedded_tree / MODELS / "gemma.py"
    gemma.write_text(
        (embedded_tree / MODELS / "llama.py")
        .read_text()
        .replace("class LlamaForCausalLM", "class GemmaForCausalLM")
    )
    before = take_snapshot(embedded_tree)
    root = ["--root", str(embedded_tree)]
    alias = ["--alias-of", "gemma:GemmaForCausalLM"]
    assert new_model(["ZetaForCausalLM", *alias, *root]) == 0
    assert remove(["ZetaForCausalLM", *root]) == 0
    assert take_snapshot(embedded_tree) == before


def test_kind_that_does_not_hold_the_arch_is_refused(
    embedded_tree, take_snapshot, capsys
):
    argv = ["LlamaForCausalLM", "--kind", "embedding"]
    err = assert_refused(argv, embedded_tree, take_snapshot, capsys)
    assert "LlamaForCausalLM is not in _EMBEDDING_MODELS" in err
    assert "_TEXT_GENERATION_MODELS (--kind text-generation)" in err


def test_crlf_files_stay_crlf(embedded_tree, take_snapshot):
    for relative in (f"{MODELS}/registry.py", "tests/models/registry.py"):
        path = embedded_tree / relative
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    before = take_snapshot(embedded_tree)
    root = ["--root", str(embedded_tree)]
    assert new_model(["MistralForCausalLM", *root]) == 0
    assert remove(["MistralForCausalLM", *root]) == 0
    assert take_snapshot(embedded_tree) == before


@pytest.mark.parametrize("how", [["--models", "Mistral"], ALIAS, ["--from", "llama"]])
def test_round_trip_on_the_vllm_fixture(fixture_tree, take_snapshot, how):
    before = take_snapshot(fixture_tree)
    root = ["--root", str(fixture_tree)]
    assert new_model(["MistralForCausalLM", *how, *root]) == 0
    assert remove(["MistralForCausalLM", *root]) == 0
    assert take_snapshot(fixture_tree) == before


def test_part_of_a_shared_docs_row_and_a_shared_module(fixture_tree):
    models = fixture_tree / "vllm/model_executor/models"
    docs = fixture_tree / "docs/models/supported_models.md"
    row = "| `LlamaModel`, `LlamaForCausalLM`, `MistralModel`, etc. | Llama-based |"
    assert row in docs.read_text()
    assert remove(["MistralModel", "--root", str(fixture_tree)]) == 0
    assert row.replace(", `MistralModel`", "") in docs.read_text()
    for registry in (models / "registry.py", fixture_tree / "tests/models/registry.py"):
        assert '"MistralModel"' not in registry.read_text()
    assert (models / "llama.py").is_file()  # other entries still use it


def test_the_last_user_of_a_module_deletes_it(embedded_tree, take_snapshot, capsys):
    qwen2 = embedded_tree / MODELS / "qwen2.py"
    root = ["Qwen2ForCausalLM", "--root", str(embedded_tree)]
    before = take_snapshot(embedded_tree)
    assert remove([*root, "--dry-run"]) == 0
    diff = capsys.readouterr().out
    assert f"--- a/{MODELS}/qwen2.py\n+++ /dev/null\n" in diff
    assert take_snapshot(embedded_tree) == before  # a dry run writes nothing

    assert remove([*root, "--json"]) == 0
    changes = json.loads(capsys.readouterr().out)["changes"]
    assert {c["path"]: c["action"] for c in changes} == {
        f"{MODELS}/registry.py": "modify",
        f"{MODELS}/qwen2.py": "delete",
        "docs/models/supported_models.md": "modify",
        "tests/models/registry.py": "modify",
    }
    assert not qwen2.exists()


def test_a_module_another_model_imports_is_kept(embedded_tree, capsys):
    root = ["--root", str(embedded_tree)]
    assert new_model(["MistralForCausalLM", *root]) == 0
    mixtral = embedded_tree / MODELS / "mixtral.py"
    mixtral.write_text("from .mistral import MistralModel\n\nBase = MistralModel\n")
    test_file = embedded_tree / "tests/models/test_mistral.py"
    capsys.readouterr()
    assert remove(["MistralForCausalLM", *root]) == 0
    assert (embedded_tree / MODELS / "mistral.py").is_file()
    assert test_file.is_file()  # it still tests a module that stays
    err = capsys.readouterr().err
    assert f"kept {MODELS}/mistral.py: imported by {MODELS}/mixtral.py" in err


def test_a_test_file_not_generated_for_the_arch_is_kept(embedded_tree, capsys):
    root = ["--root", str(embedded_tree)]
    assert new_model(["MistralForCausalLM", *root]) == 0
    test_file = embedded_tree / "tests/models/test_mistral.py"
    test_file.write_text("def test_something_else():\n    pass\n")
    capsys.readouterr()
    assert remove(["MistralForCausalLM", *root]) == 0
    assert not (embedded_tree / MODELS / "mistral.py").exists()
    assert test_file.is_file()
    assert "kept tests/models/test_mistral.py" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("arch", "message"),
    [
        ("NopeForCausalLM", f"{MODELS}/registry.py: NopeForCausalLM is not registered"),
        ("lowercase", "ARCH 'lowercase' must be a Python identifier"),
        ("Bad-Name", "ARCH 'Bad-Name' must be a Python identifier"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    embedded_tree, take_snapshot, capsys, arch, message
):
    assert message in assert_refused([arch], embedded_tree, take_snapshot, capsys)
