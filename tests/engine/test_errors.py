"""Bad input fails loudly, naming what is wrong."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from vllm_stub import LLM, SamplingParams


@pytest.fixture(scope="module")
def checkpoint(make_checkpoint) -> Path:
    folder, _ = make_checkpoint()
    return folder


def test_missing_folder_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError, match="nope.*does not exist"):
        LLM(str(missing))


def test_folder_without_config_json(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="has no config.json"):
        LLM(str(tmp_path))


def test_unregistered_architecture(checkpoint: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ckpt"
    shutil.copytree(checkpoint, folder)
    config = json.loads((folder / "config.json").read_text())
    config["architectures"] = ["NoSuchForCausalLM"]
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="NoSuchForCausalLM.*not supported"):
        LLM(str(folder))


Weights = dict[str, torch.Tensor]
K_PROJ = "model.layers.0.self_attn.k_proj.weight"


def _shrink_k_proj(weights: Weights) -> None:
    weights[K_PROJ] = weights[K_PROJ][:8].clone()


def _drop_two(weights: Weights) -> None:
    del weights["model.norm.weight"], weights["lm_head.weight"]


def _add_two(weights: Weights) -> None:
    weights["model.extra.weight"] = torch.zeros(2)
    weights["model.layers.0.mlp.fc9.weight"] = torch.zeros(2)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        # a wrong shape names the checkpoint tensor and both shapes
        (_shrink_k_proj, r"k_proj.*\(64, 64\).*\(8, 64\)"),
        (_drop_two, r"not initialized.*lm_head\.weight.*norm"),
        (_add_two, r"does not expect.*model\.extra.*fc9"),
    ],
)
def test_bad_checkpoint_weights_are_named(
    checkpoint: Path, tmp_path: Path, edit, message: str
) -> None:
    shutil.copytree(checkpoint, tmp_path / "ckpt")
    weights_file = tmp_path / "ckpt" / "model.safetensors"
    weights = load_file(weights_file)
    edit(weights)
    save_file(weights, weights_file, metadata={"format": "pt"})
    with pytest.raises(ValueError, match=message):
        LLM(str(tmp_path / "ckpt"))


def test_missing_safetensors(checkpoint: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ckpt"
    shutil.copytree(checkpoint, folder)
    (folder / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="no model.safetensors"):
        LLM(str(folder))


def test_text_prompt_without_tokenizer(checkpoint: Path) -> None:
    with pytest.raises(ValueError, match="need a tokenizer.*has none"):
        LLM(str(checkpoint)).generate("hello")


def test_prompt_longer_than_max_model_len(checkpoint: Path) -> None:
    llm = LLM(str(checkpoint), max_model_len=16)
    with pytest.raises(ValueError, match=r"length 17\).*length of 16"):
        llm.generate({"prompt_token_ids": list(range(17))})


def test_max_model_len_beyond_the_model(checkpoint: Path) -> None:
    with pytest.raises(ValueError, match=r"max_model_len \(9999\).*\(256\)"):
        LLM(str(checkpoint), max_model_len=9999)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temperature", -0.5),
        ("top_p", 0.0),
        ("top_p", 1.5),
        ("top_k", -2),
        ("max_tokens", 0),
        ("logprobs", -1),
        ("seed", 1.5),
        ("stop_token_ids", [-3]),
    ],
)
def test_invalid_sampling_params_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        SamplingParams(**{field: value})
