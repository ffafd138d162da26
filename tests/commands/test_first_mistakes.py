"""What a new user hits first: one-line errors and warnings, never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from scaffold.commands.new_model import main as new_model
from scaffold.commands.verify import main as verify

ROOT = Path(__file__).resolve().parents[2]
MISTRAL = ["MistralForCausalLM", "--alias-of", "llama:LlamaForCausalLM"]


@pytest.mark.parametrize(
    "repo",
    [
        "https://huggingface.co/mistralai/Mistral-7B-v0.1",
        "mistralai/Mistral 7B",
        "Mistral-7B-v0.1",
        "a/b/c",
    ],
)
def test_hf_example_must_be_org_slash_name(embedded_tree, take_snapshot, capsys, repo):
    before = take_snapshot(embedded_tree)
    argv = [
        *MISTRAL,
        "--models",
        "M",
        "--hf-example",
        repo,
        "--root",
        str(embedded_tree),
    ]
    assert new_model(argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "ORG/NAME" in err
    assert take_snapshot(embedded_tree) == before


def test_missing_hf_example_and_models_warn_by_flag(embedded_tree, capsys):
    assert new_model([*MISTRAL, "--root", str(embedded_tree)]) == 0
    err = capsys.readouterr().err
    assert "warning: no --hf-example" in err
    assert "warning: no --models" in err
    examples = (embedded_tree / "tests/models/registry.py").read_text()
    assert '"MistralForCausalLM": _HfExamplesInfo("", is_available_online=False)' in (
        examples
    )


def test_verify_of_an_unregistered_arch_says_what_to_run_first(
    embedded_tree, capsys, imported_by
):
    assert verify(["LlamaForCausalLm", "--root", str(embedded_tree)]) == 2
    err = capsys.readouterr().err
    assert "run `scaffold new-model LlamaForCausalLm` first" in err
    assert "did you mean LlamaForCausalLM" in err
    assert "Qwen2" not in err  # only close matches
    assert verify(["NopeForCausalLM", "--root", str(embedded_tree)]) == 2
    assert "did you mean" not in capsys.readouterr().err  # a shared suffix is not close
    # Refused before building anything: torch is never imported.
    imported = imported_by("verify", "NopeForCausalLM", cwd=embedded_tree)
    # (importlib.import_module, which dispatches commands, is not logged by
    # -X importtime; the registry view that verify reads is.)
    assert "scaffold.registry" in imported and "torch" not in imported


def test_from_an_unknown_module_lists_the_modules(embedded_tree, capsys):
    argv = ["MistralForCausalLM", "--from", "lama", "--root", str(embedded_tree)]
    assert new_model(argv) == 2
    assert "(there are: llama, llava, qwen2)" in capsys.readouterr().err  # model files


def test_root_that_does_not_exist_says_so(tmp_path, capsys):
    assert new_model([*MISTRAL, "--root", str(tmp_path / "nope")]) == 2
    assert "--root: no such folder" in capsys.readouterr().err


def test_a_closed_pipe_ends_quietly(fixture_tree, run):
    done = run(
        ["bash", "-c", f"{sys.executable} -m scaffold check --json | head -1"],
        cwd=fixture_tree,
    )
    assert done.stdout == "[\n"
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


@pytest.mark.slow
def test_core_install_verify_and_demo_ask_for_the_runtime_extra(tmp_path, run):
    venv = tmp_path / "venv"
    assert run(["python", "-m", "venv", venv]).returncode == 0
    root = ROOT
    pip = run([venv / "bin/pip", "install", "-q", root], timeout=900)
    assert pip.returncode == 0, pip.stderr[-2000:]
    # the engine's kernel sources ship, to be compiled where the extra is
    for name in ("ops.cpp", "gemm.cpp", "attention.cpp", "common.h"):
        assert list(venv.glob(f"lib/python*/site-packages/vllm_stub/csrc/cpu/{name}"))
    scaffold = venv / "bin/scaffold"
    for argv in (["verify", "LlamaForCausalLM", "--root", root], ["demo"]):
        done = run([scaffold, *argv], cwd=root)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert "install the runtime extra" in done.stderr
        assert "scaffold[runtime]" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
