"""The random-weight checkpoints ``generate.py`` measures when no --model is given.

``smollm2`` is written the way the real SmolLM2-135M checkpoint is: its
config.json values (8192 positions, rope theta 100000, tied embeddings, bf16
on disk) and a generation_config.json, so that loading it takes the same path
a user's download takes. Only the weights are random.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
import transformers
from PIL import Image

SMOLLM2_135M = {
    "vocab_size": 49152,
    "hidden_size": 576,
    "intermediate_size": 1536,
    "num_hidden_layers": 30,
    "num_attention_heads": 9,
    "num_key_value_heads": 3,
    "max_position_embeddings": 8192,
    "rms_norm_eps": 1e-5,
    "rope_theta": 100000.0,
    "tie_word_embeddings": True,
    "bos_token_id": 0,
    "eos_token_id": 0,
}
SMALL_30M = {
    "vocab_size": 16000,
    "hidden_size": 512,
    "intermediate_size": 1376,
    "num_hidden_layers": 8,
    "num_attention_heads": 8,
    "num_key_value_heads": 4,
    "max_position_embeddings": 2048,
    "tie_word_embeddings": True,
}
SHAPES = {"135m": SMOLLM2_135M, "30m": SMALL_30M}
IMAGE_TOKEN = 15999
VISION = {
    "hidden_size": 256,
    "intermediate_size": 1024,
    "num_hidden_layers": 4,
    "num_attention_heads": 4,
    "image_size": 112,
    "patch_size": 14,
}


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """The engine benchmarks' shared options: --model, --batches, --threads."""
    parser.add_argument("--model", type=Path, help="a local checkpoint folder")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--threads", type=int, default=2)


@contextlib.contextmanager
def checkpoint(args: argparse.Namespace, shape: str = "135m") -> Iterator[Path]:
    """``args.model``, or a random-weight ``shape`` checkpoint for the block.

    Sets torch's threads to ``args.threads`` first.
    """
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        yield args.model or llama(Path(tmp), shape)


def llama(folder: Path, shape: str) -> Path:
    """A Llama checkpoint of ``shape``, bf16 on disk like the hub's."""
    config = transformers.LlamaConfig(**SHAPES[shape])
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(folder)
    generation = {"bos_token_id": config.bos_token_id, "eos_token_id": None}
    (folder / "generation_config.json").write_text(json.dumps(generation))
    return folder


def llava(folder: Path) -> Path:
    """A small LLaVA: a CLIP tower (64 image tokens) on the 30m text model."""
    config = transformers.LlavaConfig(
        vision_config=transformers.CLIPVisionConfig(**VISION),
        text_config=transformers.LlamaConfig(**SMALL_30M),
        image_token_index=IMAGE_TOKEN,
    )
    torch.manual_seed(0)
    transformers.LlavaForConditionalGeneration(config).save_pretrained(folder)
    side = VISION["image_size"]
    transformers.CLIPImageProcessor(
        size={"shortest_edge": side}, crop_size={"height": side, "width": side}
    ).save_pretrained(folder)
    return folder


def image(seed: int) -> Image.Image:
    """A random 160x120 RGB image."""
    pixels = np.random.default_rng(seed).random((120, 160, 3)) * 255
    return Image.fromarray(pixels.astype("uint8"))


def prompts(batch: int, length: int) -> torch.Tensor:
    """``[batch, length]`` token ids (below 1000: any vocabulary has them)."""
    generator = torch.Generator().manual_seed(batch)
    return torch.randint(1, 1000, (batch, length), generator=generator)
