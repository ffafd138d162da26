"""``scaffold verify`` in a copy of vLLM 0.33.0: upstream's model files on the stub.

Each architecture runs unmodified from the tree through the import hook and
matches transformers (greedy tokens equal, logits within tolerance) on tiny
configs that exercise what the files branch on: grouped-query and
multi-query attention, tied embeddings, an explicit ``head_dim``, rope
scaling, Mistral's sliding window. The tree stays clean (``git status``), and
bad input is one line, exit 2, nothing written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scaffold.commands.new_model import main as new_model
from scaffold.commands.verify import main as verify
from scaffold.verify.parity import TINY_CONFIG

from .conftest import changed_files

MODEL_TYPES = {
    "LlamaForCausalLM": "llama",
    "Qwen2ForCausalLM": "qwen2",
    "Qwen3ForCausalLM": "qwen3",
    "MistralForCausalLM": "mistral",
}
# Variants of TINY_CONFIG (4 heads of 16, 2 KV heads: grouped-query already).
TIED_MQA_HEAD_DIM = {
    "tie_word_embeddings": True,
    "num_key_value_heads": 1,
    "head_dim": 32,
}
YARN = {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64}
LLAMA3 = {
    "rope_type": "llama3",
    "factor": 8.0,
    "low_freq_factor": 1.0,
    "high_freq_factor": 4.0,
    "original_max_position_embeddings": 64,
}
CONFIGS = [
    ("LlamaForCausalLM", TIED_MQA_HEAD_DIM),
    ("LlamaForCausalLM", {"rope_parameters": {"rope_theta": 5e5, **LLAMA3}}),
    # vLLM's qwen2.py derives head_dim from hidden_size, as Qwen2 checkpoints do
    ("Qwen2ForCausalLM", {"tie_word_embeddings": True, "num_key_value_heads": 1}),
    ("Qwen2ForCausalLM", {"rope_parameters": {"rope_theta": 1e6, **YARN}}),
    ("Qwen3ForCausalLM", TIED_MQA_HEAD_DIM),
    ("Qwen3ForCausalLM", {"rope_parameters": {"rope_theta": 1e6, **YARN}}),
    ("MistralForCausalLM", TIED_MQA_HEAD_DIM),
    # shorter than prompt + generation (36 tokens): the window really slides
    ("MistralForCausalLM", {"sliding_window": 8}),
]


@pytest.mark.parametrize("arch", list(MODEL_TYPES))
def test_upstream_model_file_verifies_and_leaves_the_tree_clean(
    upstream_tree: Path, run, arch: str
) -> None:
    done = run(["scaffold", "verify", arch], cwd=upstream_tree)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "greedy tokens equal     yes" in done.stdout
    assert changed_files(upstream_tree) == []


@pytest.mark.parametrize(
    ("arch", "variant"), CONFIGS, ids=[f"{a}-{'-'.join(v)}" for a, v in CONFIGS]
)
def test_upstream_model_file_matches_on_tiny_variants(
    upstream_pristine: Path, tmp_path: Path, capsys, arch: str, variant: dict
) -> None:
    config = tmp_path / "config.json"
    data = {"model_type": MODEL_TYPES[arch], **TINY_CONFIG, **variant}
    config.write_text(json.dumps(data))
    argv = [arch, "--config", str(config), "--root", str(upstream_pristine)]
    assert verify(argv) == 0, capsys.readouterr()
    assert "greedy tokens equal     yes" in capsys.readouterr().out
    assert changed_files(upstream_pristine) == []


def test_template_model_verifies_against_a_named_reference(
    upstream_tree: Path, capsys
) -> None:
    root = ["--root", str(upstream_tree)]
    assert new_model(["OrcaForCausalLM", "--models", "Orca", *root]) == 0
    written = changed_files(upstream_tree)
    capsys.readouterr()
    assert verify(["OrcaForCausalLM", *root]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pass --hf-class CLASS" in err[0]
    argv = ["OrcaForCausalLM", "--hf-class", "LlamaForCausalLM", *root]
    assert verify(argv) == 0
    assert "greedy tokens equal     yes" in capsys.readouterr().out
    assert changed_files(upstream_tree) == written


@pytest.mark.parametrize(
    ("arch", "breakage", "message"),
    [
        ("Phi3ForCausalLM", "phi3.py", "phi3.py:"),
        (
            "Gemma2ForCausalLM",
            None,
            "gemma2.py: Gemma2ForCausalLM imports what vllm_stub lacks: "
            "vllm.model_executor.layers.activation.GeluAndMul, "
            "vllm.model_executor.layers.layernorm.GemmaRMSNorm",
        ),
        ("InternLM3ForCausalLM", None, "has no class InternLM3ForCausalLM"),
    ],
    ids=["syntax-error", "unsupported-imports", "no-transformers-class"],
)
def test_bad_input_is_one_line_exit_2_nothing_written(
    upstream_tree: Path, capsys, arch: str, breakage: str | None, message: str
) -> None:
    if breakage is not None:
        broken = upstream_tree / "vllm" / "model_executor" / "models" / breakage
        broken.write_text(broken.read_text() + "\ndef (:\n")
    before = changed_files(upstream_tree)
    assert verify([arch, "--root", str(upstream_tree)]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], err
    assert "syntax error" in lines[0] or breakage is None
    assert "Traceback" not in out + err
    assert changed_files(upstream_tree) == before
