"""``scaffold verify``: the tree's own engine against transformers."""

from __future__ import annotations

import json

import pytest

from scaffold.commands.new_model import main as new_model
from scaffold.commands.verify import main
from scaffold.verify.parity import LOGIT_TOLERANCE, TINY_CONFIG


@pytest.mark.slow
def test_llama_matches_transformers(embedded_tree, capsys):
    assert main(["LlamaForCausalLM", "--root", str(embedded_tree)]) == 0
    out = capsys.readouterr().out
    assert "greedy tokens equal     yes" in out
    assert "max |Δlogit| (prefill)" in out


@pytest.mark.slow
def test_a_perturbed_norm_in_a_generated_model_fails(embedded_tree, capsys):
    # mistral.py exists only in the copy: this also proves the tree's own
    # engine runs, not the installed one.
    argv = ["MistralForCausalLM", "--root", str(embedded_tree)]
    assert new_model(argv) == 0
    assert main(argv) == 0
    model = embedded_tree / "vllm_stub/model_executor/models/mistral.py"
    text = model.read_text()
    assert text.count("eps=config.rms_norm_eps") >= 2
    model.write_text(
        text.replace("eps=config.rms_norm_eps", "eps=config.rms_norm_eps + 1.0")
    )
    capsys.readouterr()
    assert main(argv) == 1
    out = capsys.readouterr().out
    diff = float(out.split("max |Δlogit| (prefill)")[1].split()[0])
    assert diff > LOGIT_TOLERANCE


@pytest.mark.slow
def test_config_json_for_an_alias(embedded_tree, tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"model_type": "llama", **TINY_CONFIG}))
    argv = ["XverseForCausalLM", "--config", str(config), "--root", str(embedded_tree)]
    assert main(argv) == 0
    assert "greedy tokens equal     yes" in capsys.readouterr().out


def test_arch_transformers_lacks_exits_2_with_one_line(embedded_tree, capsys):
    alias = ["--alias-of", "llama:LlamaForCausalLM", "--models", "N"]
    assert new_model(["NopeForCausalLM", *alias, "--root", str(embedded_tree)]) == 0
    capsys.readouterr()
    assert main(["NopeForCausalLM", "--root", str(embedded_tree)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "has no class NopeForCausalLM; pass --hf-class CLASS" in err[0]


def test_unregistered_architecture_exits_2(embedded_tree, capsys):
    assert main(["MistralForCausalLM", "--root", str(embedded_tree)]) == 2
    err = capsys.readouterr().err
    assert "run `scaffold new-model MistralForCausalLM` first" in err


@pytest.mark.slow
def test_hf_class_names_the_reference_for_an_unknown_arch(embedded_tree, capsys):
    alias = ["--alias-of", "llama:LlamaForCausalLM", "--models", "N"]
    assert new_model(["NopeForCausalLM", *alias, "--root", str(embedded_tree)]) == 0
    argv = ["NopeForCausalLM", "--hf-class", "LlamaForCausalLM"]
    assert main([*argv, "--root", str(embedded_tree)]) == 0
    assert "greedy tokens equal     yes" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--hf-class", "NopeForCausalLM", "LlamaForCausalLM"], "no such model class"),
        ([], "give either ARCH or --all"),
        (["LlamaForCausalLM", "--all"], "give either ARCH or --all"),
    ],
)
def test_bad_reference_or_selection_exits_2(embedded_tree, capsys, argv, message):
    assert main([*argv, "--root", str(embedded_tree)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
