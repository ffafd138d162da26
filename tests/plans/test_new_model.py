"""``scaffold new-model`` end to end on temporary trees (real files, real CLI)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scaffold import plan as plan_module
from scaffold.check import check_tree
from scaffold.commands.new_model import main
from scaffold.ordering import family_key
from scaffold.transaction import JOURNAL_NAME
from scaffold.tree import find_tree

REGISTRY = "vllm_stub/model_executor/models/registry.py"
DOCS = "docs/models/supported_models.md"
EXAMPLES = "tests/models/registry.py"
ALIAS = ["--alias-of", "llama:LlamaForCausalLM"]


def added_lines(before: bytes, after: bytes) -> list[str]:
    """Lines of ``after`` not in ``before``, asserting nothing was removed."""
    old, new = before.decode().splitlines(), after.decode().splitlines()
    remaining = list(new)
    for line in old:
        remaining.remove(line)  # raises ValueError if an old line was lost
    return remaining


def test_alias_adds_one_line_to_each_file(embedded_tree, take_snapshot, capsys):
    before = take_snapshot(embedded_tree)
    argv = ["MistralForCausalLM", *ALIAS, "--models", "Mistral"]
    argv += ["--hf-example", "mistralai/Mistral-7B-v0.1", "--root", str(embedded_tree)]
    assert main(argv) == 0
    after = take_snapshot(embedded_tree)
    assert set(after) == set(before)  # an alias creates no file
    assert added_lines(before[REGISTRY], after[REGISTRY]) == [
        '    "MistralForCausalLM": ("llama", "LlamaForCausalLM"),'
    ]
    assert added_lines(before[DOCS], after[DOCS]) == [
        "| `MistralForCausalLM` | Mistral | `mistralai/Mistral-7B-v0.1` | ✅︎ | ✅︎ |"
    ]
    assert added_lines(before[EXAMPLES], after[EXAMPLES]) == [
        '    "MistralForCausalLM": _HfExamplesInfo("mistralai/Mistral-7B-v0.1"),'
    ]
    changed = {path for path in after if after[path] != before[path]}
    assert changed == {REGISTRY, DOCS, EXAMPLES}
    assert check_tree(find_tree(embedded_tree), family_key).findings == []
    assert "Modified vllm_stub/model_executor/models/registry.py" in (
        capsys.readouterr().out
    )


def test_same_command_twice_exits_2_and_changes_nothing(
    embedded_tree, take_snapshot, capsys
):
    argv = ["MistralForCausalLM", *ALIAS, "--root", str(embedded_tree)]
    assert main(argv) == 0
    once = take_snapshot(embedded_tree)
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"{REGISTRY}:28: MistralForCausalLM is already in _TEXT_GENERATION_MODELS; "
        "remove it first or pick another name"
    ]
    assert take_snapshot(embedded_tree) == once


def test_dry_run_and_json_write_nothing(embedded_tree, take_snapshot, capsys):
    before = take_snapshot(embedded_tree)
    argv = ["MistralForCausalLM", *ALIAS, "--root", str(embedded_tree), "--dry-run"]
    assert main(argv) == 0
    diff = capsys.readouterr().out
    assert f"+++ b/{REGISTRY}" in diff and f"+++ b/{DOCS}" in diff
    assert main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(c["path"], c["action"]) for c in data["changes"]] == [
        (REGISTRY, "modify"),
        (DOCS, "modify"),
        (EXAMPLES, "modify"),
    ]
    assert take_snapshot(embedded_tree) == before


def test_failed_rename_leaves_every_file_identical(
    embedded_tree, take_snapshot, monkeypatch, capsys
):
    before = take_snapshot(embedded_tree)
    real_replace = os.replace
    calls = []

    def third_rename_fails(src, dst):
        # Count only staged files put in place, not the journal or an undo.
        if Path(dst).name == JOURNAL_NAME or ".restore." in str(src):
            return real_replace(src, dst)
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(5, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(plan_module.os, "replace", third_rename_fails)
    argv = ["MistralForCausalLM", *ALIAS, "--root", str(embedded_tree)]
    assert main(argv) == 2
    assert "nothing was changed" in capsys.readouterr().err
    assert len(calls) == 3
    assert take_snapshot(embedded_tree) == before


def test_crlf_registry_stays_crlf(embedded_tree):
    registry = embedded_tree / REGISTRY
    registry.write_bytes(registry.read_bytes().replace(b"\n", b"\r\n"))
    assert main(["MistralForCausalLM", *ALIAS, "--root", str(embedded_tree)]) == 0
    data = registry.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n")
    assert b'"MistralForCausalLM": ("llama", "LlamaForCausalLM"),\r\n' in data


@pytest.mark.slow
def test_sixteen_concurrent_runs_beside_a_stale_lock_file_all_land(embedded_tree):
    # The pid file of earlier releases, naming no live process: ignored now.
    (embedded_tree / ".scaffold.lock").write_text("")
    names = [f"Concurrent{i}ForCausalLM" for i in range(16)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "scaffold", "new-model", name, *ALIAS],
            cwd=embedded_tree,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for name in names
    ]
    assert [p.wait(timeout=120) for p in procs] == [0] * 16
    for relative in (REGISTRY, EXAMPLES):
        ast.parse((embedded_tree / relative).read_text())
    text = (embedded_tree / REGISTRY).read_text()
    assert all(f'"{name}"' in text for name in names)
    assert check_tree(find_tree(embedded_tree), family_key).findings == []


BAD_INPUT = [
    (["mistralForCausalLM"], "must be a Python identifier starting with an upper"),
    (["Mistral-7B"], "must be a Python identifier"),
    (["MistralForCausalLM", "--module", "Mistral"], "lower-case Python identifier"),
    (["MistralForCausalLM", "--module", "class"], "not a keyword"),
    (["MistralForCausalLM", "--module", "models/mistral"], "is a path"),
    (["LlamaForCausalLM", *ALIAS], "already in _TEXT_GENERATION_MODELS"),
    (["MistralForCausalLM", "--module", "llama"], "llama.py: already exists"),
    (["MistralForCausalLM", "--kind", "vision"], "unknown --kind 'vision'"),
    # The embedded engine has no speculative decoding, so no such registry dict.
    (
        ["OrcaEagleLlamaForCausalLM", "--kind", "speculative"],
        "unknown --kind 'speculative': no module-level dict _SPECULATIVE_DECODING",
    ),
    (["MistralForCausalLM", *ALIAS, "--section", "Nope"], "no section 'Nope'"),
    (["MistralForCausalLM", "--alias-of", "llama:Nope"], "does not define Nope"),
    (["MistralForCausalLM", "--alias-of", "nope:Nope"], "no module file"),
    (["MistralForCausalLM", "--alias-of", "llama"], "must be MODULE:CLASS"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_INPUT)
def test_bad_input_exits_2_with_one_line(
    embedded_tree, take_snapshot, capsys, argv, message
):
    before = take_snapshot(embedded_tree)
    assert main([*argv, "--root", str(embedded_tree)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert "Traceback" not in err[0]
    assert take_snapshot(embedded_tree) == before


def test_broken_trees_exit_2(embedded_tree, tmp_path, take_snapshot, capsys):
    registry = embedded_tree / REGISTRY
    original = registry.read_text()
    cases = [
        (
            original.replace('"LlamaForCausalLM"),\n', '"LlamaForCausalLM")\n', 1),
            f"{REGISTRY}:",
        ),  # a syntax error, located
        (
            original.replace("_TEXT_GENERATION_MODELS = {", "_TEXT_GEN = {"),
            "no module-level dict _TEXT_GENERATION_MODELS",
        ),
        (
            original.replace(
                "_TEXT_GENERATION_MODELS = {", "_TEXT_GENERATION_MODELS = dict({"
            ).replace(
                '"XverseForCausalLM": ("llama", "LlamaForCausalLM"),\n}',
                '"XverseForCausalLM": ("llama", "LlamaForCausalLM"),\n})',
            ),
            "is not a dict literal",
        ),
    ]
    for text, message in cases:
        registry.write_text(text)
        before = take_snapshot(embedded_tree)
        assert main(["MistralForCausalLM", *ALIAS, "--root", str(embedded_tree)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
        assert take_snapshot(embedded_tree) == before
    registry.write_bytes(original.encode() + b"# \xff\n")
    assert main(["MistralForCausalLM", *ALIAS, "--root", str(embedded_tree)]) == 2
    assert "not UTF-8" in capsys.readouterr().err
    assert main(["MistralForCausalLM", "--root", str(tmp_path / "nowhere")]) == 2
    assert "--root: no such folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["MistralForCausalLM", "--root", str(tmp_path / "empty")]) == 2
    assert "no */model_executor/models/registry.py" in capsys.readouterr().err


@pytest.mark.slow
def test_template_model_runs_and_passes_ruff(embedded_tree, take_snapshot, run):
    before = take_snapshot(embedded_tree)
    argv = ["MistralForCausalLM", "--models", "Mistral"]
    argv += ["--hf-example", "mistralai/Mistral-7B-v0.1", "--root", str(embedded_tree)]
    assert main(argv) == 0
    after = take_snapshot(embedded_tree)
    model = "vllm_stub/model_executor/models/mistral.py"
    test = "tests/models/test_mistral.py"
    assert set(after) - set(before) == {model, test}
    for path in (REGISTRY, DOCS, EXAMPLES):
        assert len(added_lines(before[path], after[path])) == 1
    assert check_tree(find_tree(embedded_tree), family_key).findings == []
    for ruff in (["ruff", "check"], ["ruff", "format", "--check"]):
        done = run([*ruff, "--line-length", "88", model, test], cwd=embedded_tree)
        assert done.returncode == 0, done.stdout + done.stderr
    # The generated parity test, run against the tree's own engine.
    done = run(
        ["python", "-m", "pytest", "-p", "no:cacheprovider", test],
        cwd=embedded_tree,
        pythonpath=[embedded_tree],
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert "1 passed" in done.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["RegistryForCausalLM", "--force"],  # default module: registry
        ["FooForCausalLM", "--module", "__init__", "--force"],
        ["FooForCausalLM", "--module", "utils", "--force"],
        ["FooForCausalLM", "--module", "interfaces"],
        ["FooForCausalLM", "--module", "scratch", "--force"],  # no entry uses it
    ],
)
def test_never_overwrites_a_file_that_is_not_a_model_file(
    embedded_tree, take_snapshot, capsys, argv
):
    (embedded_tree / "vllm_stub/model_executor/models/scratch.py").write_text("x = 1\n")
    before = take_snapshot(embedded_tree)
    assert main([*argv, "--models", "F", "--root", str(embedded_tree)]) == 2
    assert "is not a model file of this tree" in capsys.readouterr().err
    assert take_snapshot(embedded_tree) == before
