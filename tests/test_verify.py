"""``scaffold verify``: the tree's own engine against transformers."""

from __future__ import annotations

import json

from scaffold.commands.verify import main
from scaffold.verify import TINY_CONFIG

LAYERNORM = "vllm_stub/model_executor/layers/layernorm.py"


def test_llama_matches_transformers(embedded_tree, capsys):
    assert main(["LlamaForCausalLM", "--root", str(embedded_tree)]) == 0
    out = capsys.readouterr().out
    assert "greedy tokens equal     yes" in out
    assert "max |Δlogit| (prefill)" in out


def test_a_perturbed_norm_in_the_tree_fails(embedded_tree, capsys):
    # Proves the tree's own copy of the engine runs, not the installed one.
    norm = embedded_tree / LAYERNORM
    text = norm.read_text()
    assert "out = self.weight * hidden" in text
    norm.write_text(
        text.replace("out = self.weight * hidden", "out = 1.5 * self.weight * hidden")
    )
    assert main(["LlamaForCausalLM", "--root", str(embedded_tree)]) == 1
    assert "greedy tokens equal     no" in capsys.readouterr().out


def test_config_json_for_an_alias(embedded_tree, tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"model_type": "llama", **TINY_CONFIG}))
    argv = ["XverseForCausalLM", "--config", str(config), "--root", str(embedded_tree)]
    assert main(argv) == 0
    assert "greedy tokens equal     yes" in capsys.readouterr().out


def test_unknown_architecture_exits_2_with_one_line(embedded_tree, capsys):
    assert main(["NopeForCausalLM", "--root", str(embedded_tree)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "has no class NopeForCausalLM; pass --config" in err[0]


def test_unregistered_architecture_exits_2(embedded_tree, capsys):
    assert main(["MistralForCausalLM", "--root", str(embedded_tree)]) == 2
    err = capsys.readouterr().err
    assert "are not supported for now" in err
