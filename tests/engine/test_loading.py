"""Checkpoint formats, dtypes and config vintages the loader accepts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from vllm_stub import LLM, SamplingParams
from vllm_stub.transformers_utils.config import patch_rope_parameters

GREEDY = SamplingParams(temperature=0, max_tokens=8, ignore_eos=True)
PROMPT = {"prompt_token_ids": [4, 8, 15, 16, 23, 42]}


@pytest.fixture(scope="module")
def checkpoint(make_checkpoint) -> tuple[Path, torch.nn.Module]:
    return make_checkpoint(num_key_value_heads=2)


def _tokens(llm: LLM) -> list[int]:
    return llm.generate(PROMPT, GREEDY, use_tqdm=False)[0].outputs[0].token_ids


def test_sharded_checkpoint_loads_like_a_single_file(checkpoint, tmp_path) -> None:
    folder, hf_model = checkpoint
    hf_model.save_pretrained(tmp_path, max_shard_size="40KB")
    assert (tmp_path / "model.safetensors.index.json").is_file()
    assert _tokens(LLM(str(tmp_path))) == _tokens(LLM(str(folder)))


def test_tied_lm_head_in_the_checkpoint_is_ignored(make_checkpoint, tmp_path) -> None:
    from safetensors.torch import load_file, save_file

    folder, _ = make_checkpoint(tie_word_embeddings=True)
    weights = load_file(folder / "model.safetensors")
    assert "lm_head.weight" not in weights
    weights["lm_head.weight"] = torch.zeros_like(weights["model.embed_tokens.weight"])
    shutil.copytree(folder, tmp_path / "ckpt")
    save_file(weights, tmp_path / "ckpt" / "model.safetensors")
    assert _tokens(LLM(str(tmp_path / "ckpt"))) == _tokens(LLM(str(folder)))


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        ("auto", torch.float32),
        ("float32", torch.float32),
        ("bfloat16", torch.bfloat16),
        ("float16", torch.float16),
    ],
)
def test_dtype(checkpoint, dtype: str, expected: torch.dtype) -> None:
    folder, _ = checkpoint
    llm = LLM(str(folder), dtype=dtype)
    assert {p.dtype for p in llm.model.parameters()} == {expected}
    assert len(_tokens(llm)) == 8


def test_auto_dtype_follows_the_config(checkpoint, tmp_path) -> None:
    folder, _ = checkpoint
    shutil.copytree(folder, tmp_path / "ckpt")
    config = json.loads((tmp_path / "ckpt" / "config.json").read_text())
    config["dtype"] = "bfloat16"
    (tmp_path / "ckpt" / "config.json").write_text(json.dumps(config))
    llm = LLM(str(tmp_path / "ckpt"))
    assert llm.model.model.embed_tokens.weight.dtype == torch.bfloat16


def test_unknown_dtype_is_rejected(checkpoint) -> None:
    with pytest.raises(ValueError, match="unsupported dtype 'int8'"):
        LLM(str(checkpoint[0]), dtype="int8")


def test_v4_rope_fields_become_rope_parameters() -> None:
    # a transformers 4.x config: plain attributes, no rope_parameters
    config = SimpleNamespace(
        rope_theta=5000.0, rope_scaling={"type": "linear", "factor": 2.0}
    )
    patch_rope_parameters(config)
    assert config.rope_parameters == {
        "rope_type": "linear",
        "factor": 2.0,
        "rope_theta": 5000.0,
    }


def test_v4_config_json_matches_transformers(make_checkpoint, tmp_path) -> None:
    rope = {"rope_type": "linear", "rope_theta": 5000.0, "factor": 2.0}
    folder, hf_model = make_checkpoint(rope_parameters=rope)
    shutil.copytree(folder, tmp_path / "ckpt")
    config_file = tmp_path / "ckpt" / "config.json"
    config = json.loads(config_file.read_text())
    config.pop("rope_parameters")
    config.update(rope_theta=5000.0, rope_scaling={"type": "linear", "factor": 2.0})
    config_file.write_text(json.dumps(config))
    llm = LLM(str(tmp_path / "ckpt"))
    ids = torch.tensor(PROMPT["prompt_token_ids"])
    with torch.inference_mode():
        expected = hf_model(ids[None]).logits[0]
        actual = llm.model.compute_logits(llm.model(ids, torch.arange(len(ids))))
    torch.testing.assert_close(actual, expected, atol=1e-4, rtol=1e-4)
