"""Parity of a tree's engine with transformers on a tiny random checkpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from scaffold.errors import ScaffoldError
from scaffold.tree import Tree
from scaffold.verify import images
from scaffold.verify.generated import (
    LOGIT_TOLERANCE,
    NEW_TOKENS,
    VerifyResult,
    compare_generated,
)
from scaffold.verify.modes import CLASSIFY, GENERATE, MULTIMODAL, POOLING_MODES
from scaffold.verify.pooled import (
    POOLING_PROMPTS,
    PoolingResult,
    compare_pooled,
)
from scaffold.verify.upstream import TreeModel

# Small enough to build and run in seconds on 2 CPU cores; a wide init keeps
# the logits far apart so greedy decoding does not hinge on rounding.
TINY_CONFIG = {
    "vocab_size": 256,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 256,
    "initializer_range": 0.2,
    # inside the tiny vocabulary: some configs default to a real model's
    # (Phi-3's 32000), which their embedding refuses as a padding index
    "pad_token_id": 0,
}

__all__ = ["LOGIT_TOLERANCE", "PROMPT", "TINY_CONFIG", "VerifyResult", "verify"]

PROMPT = [1, 17, 42, 99, 5, 63, 200, 7, 18, 121, 33, 250]


def reference_class(
    arch: str,
    hf_class: str | None = None,
    config_path: Path | None = None,
    mode: str = GENERATE,
) -> Any:
    """transformers' class to compare ``arch`` with (None: from ``--config``).

    ``hf_class`` names it when transformers does not know ``arch``; without
    either, an unknown ``arch`` is bad input, reported before anything runs.
    A classifier is compared with a ``*ForSequenceClassification`` only.
    """
    import transformers

    model_cls = getattr(transformers, hf_class or arch, None)
    if hasattr(model_cls, "config_class"):
        name = model_cls.__name__
        if mode == CLASSIFY and not name.endswith("ForSequenceClassification"):
            raise ScaffoldError(
                f"{arch} classifies: compare it with a transformers "
                f"*ForSequenceClassification (--hf-class), not {name}"
            )
        return model_cls
    version = transformers.__version__
    if hf_class is not None:
        raise ScaffoldError(
            f"--hf-class {hf_class}: transformers {version} has no such model "
            "class (name one it has, e.g. LlamaForCausalLM)"
        )
    if config_path is None:
        raise ScaffoldError(
            f"transformers {version} has no class {arch}; pass --hf-class CLASS "
            "(the transformers class to compare with) or --config CONFIG_JSON "
            "(a config.json whose model_type it knows)"
        )
    return None


# transformers' auto class per mode, for a --config with no class of ARCH's name
_AUTO_CLASSES = {
    GENERATE: "AutoModelForCausalLM",
    "embed": "AutoModelForCausalLM",  # pooled from its backbone
    CLASSIFY: "AutoModelForSequenceClassification",
    MULTIMODAL: "AutoModelForImageTextToText",
}


def _tiny_config(model_cls: Any, arch: str, mode: str) -> Any:
    """``TINY_CONFIG`` for ``model_cls``; LLaVA-style: a tiny CLIP tower too."""
    if mode == MULTIMODAL:
        return model_cls.config_class(
            text_config={"model_type": "llama", **TINY_CONFIG},
            vision_config=images.TINY_VISION,
            image_token_index=TINY_CONFIG["vocab_size"] - 1,
            architectures=[arch],
        )
    labels = {"num_labels": 3} if mode == CLASSIFY else {}
    return model_cls.config_class(**TINY_CONFIG, **labels, architectures=[arch])


def build_checkpoint(
    arch: str,
    config_path: Path | None,
    folder: Path,
    hf_class: str | None = None,
    mode: str = GENERATE,
) -> Any:
    """Save a tiny random transformers model for ``arch``; return it (fp32).

    The reference is transformers' class ``hf_class`` (default: ``arch``);
    the checkpoint's ``architectures`` is ``[arch]`` either way, so that the
    engine builds ``arch``. ``mode`` (``modes``) adds what its comparison
    needs: class labels, or an image processor and an image.
    """
    import torch
    import transformers

    model_cls = reference_class(arch, hf_class, config_path, mode)
    if config_path is not None:
        try:
            data = json.loads(config_path.read_text())
            config = transformers.AutoConfig.for_model(**data)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ScaffoldError(
                f"cannot use as a config: {exc}", path=str(config_path)
            ) from None
        config.architectures = [arch]
        make = model_cls or getattr(transformers, _AUTO_CLASSES[mode]).from_config
    else:
        config = _tiny_config(model_cls, arch, mode)
        make = model_cls
    if mode == MULTIMODAL and getattr(config, "vision_config", None) is None:
        raise ScaffoldError(
            f"{arch} is multimodal, but its config has no vision_config "
            "(pass --config with a LLaVA-style config.json)"
        )
    torch.manual_seed(0)
    model = make(config).eval()
    # Our own progress lines only: not transformers' "Writing model shards".
    transformers.utils.logging.disable_progress_bar()
    model.save_pretrained(folder)
    _name_architecture(folder / "config.json", arch)
    if config.get_text_config().vocab_size == TINY_CONFIG["vocab_size"]:
        save_byte_tokenizer(folder)
    if mode == MULTIMODAL:
        images.save_image_inputs(folder, config)
    return model


def _name_architecture(config_file: Path, arch: str) -> None:
    """``architectures: [arch]`` in a saved config.json.

    save_pretrained writes the saving class's name there (``--hf-class``'s),
    and the engine would build that class instead of ``arch``.
    """
    data = json.loads(config_file.read_text())
    config_file.write_text(json.dumps({**data, "architectures": [arch]}, indent=2))


def save_byte_tokenizer(folder: Path) -> None:
    """A tokenizer whose 256 ids are the 256 bytes, for the tiny checkpoints.

    Byte-level BPE with no merges: ``TINY_CONFIG``'s vocabulary exactly, no
    download, and any token ids decode (a random model's to gibberish).
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    table = bytes_to_unicode()
    tokenizer = Tokenizer(
        models.BPE(vocab={table[b]: b for b in range(256)}, merges=[])
    )
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    PreTrainedTokenizerFast(tokenizer_object=tokenizer).save_pretrained(folder)


def run_engine(
    tree: Tree,
    folder: Path,
    model: TreeModel | None = None,
    mode: str = GENERATE,
    prompt: list[int] | list[list[int]] = PROMPT,
) -> dict[str, Any]:
    """The tree's engine on ``folder`` (a subprocess importing that tree).

    With ``model`` (a vLLM checkout), the installed vllm_stub runs the tree's
    model file instead, from the checkpoint folder and writing no bytecode.
    ``mode`` says what to run (``modes``); a pooling ``prompt`` is a list of
    prompts.
    """
    command = [sys.executable, "-m", "scaffold.verify.engine_main", mode]
    command += [str(folder), json.dumps(prompt), str(NEW_TOKENS)]
    if model is None:
        paths = [str(tree.root), os.environ.get("PYTHONPATH", "")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, paths))}
        cwd = tree.root  # `-m` puts the cwd first on sys.path: make it the tree
    else:
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        command += model.argv()
        cwd = folder
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise ScaffoldError(f"the engine could not run the model: {last}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def verify(
    tree: Tree,
    arch: str,
    config_path: Path | None,
    folder: Path,
    hf_class: str | None = None,
    model: TreeModel | None = None,
    mode: str = GENERATE,
) -> VerifyResult | PoolingResult:
    """Build a checkpoint in ``folder``, run both sides, compare.

    ``model``: run a vLLM checkout's model file on vllm_stub (``upstream``).
    ``mode``: the comparison (``modes.verify_mode``); a class that turns out
    to be a pooling model when asked to generate is compared by its pooled
    vectors (vLLM's ``is_pooling_model`` decides, in the engine).
    """
    reference = build_checkpoint(arch, config_path, folder, hf_class, mode)
    if mode in POOLING_MODES:
        engine = run_engine(tree, folder, model, mode, POOLING_PROMPTS)
        return compare_pooled(reference, engine, mode)
    prompt = PROMPT
    if mode == MULTIMODAL:
        prompt = images.with_placeholder(PROMPT, reference.config)
    engine = run_engine(tree, folder, model, mode, prompt)
    if engine.get("mode", mode) in POOLING_MODES:
        pooled = run_engine(tree, folder, model, engine["mode"], POOLING_PROMPTS)
        return compare_pooled(reference, pooled, engine["mode"])
    return compare_generated(reference, engine, prompt, folder, mode)
