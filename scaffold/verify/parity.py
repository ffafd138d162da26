"""Parity of a tree's engine with transformers on a tiny random checkpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scaffold.errors import ScaffoldError
from scaffold.tree import Tree
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
}
PROMPT = [1, 17, 42, 99, 5, 63, 200, 7, 18, 121, 33, 250]
NEW_TOKENS = 24
LOGIT_TOLERANCE = 1e-3  # fp32 on both sides: differences are ~1e-6


@dataclass(frozen=True)
class VerifyResult:
    """What ``verify`` measured."""

    max_logit_diff: float
    tokens_equal: bool
    engine_tokens: list[int]
    reference_tokens: list[int]
    engine_tokens_per_s: float
    reference_tokens_per_s: float

    @property
    def passed(self) -> bool:
        """Greedy tokens equal and logits within tolerance."""
        return self.tokens_equal and self.max_logit_diff <= LOGIT_TOLERANCE

    def table(self, arch: str) -> str:
        """The result as a small text table."""
        rows = [
            ("architecture", arch),
            ("max |Δlogit| (prefill)", f"{self.max_logit_diff:.2e}"),
            ("greedy tokens equal", "yes" if self.tokens_equal else "no"),
            ("engine tokens/s", f"{self.engine_tokens_per_s:.1f}"),
            ("transformers tokens/s", f"{self.reference_tokens_per_s:.1f}"),
        ]
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def reference_class(
    arch: str, hf_class: str | None = None, config_path: Path | None = None
) -> Any:
    """transformers' class to compare ``arch`` with (None: from ``--config``).

    ``hf_class`` names it when transformers does not know ``arch``; without
    either, an unknown ``arch`` is bad input, reported before anything runs.
    """
    import transformers

    model_cls = getattr(transformers, hf_class or arch, None)
    if hasattr(model_cls, "config_class"):
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


def build_checkpoint(
    arch: str, config_path: Path | None, folder: Path, hf_class: str | None = None
) -> Any:
    """Save a tiny random transformers model for ``arch``; return it (fp32).

    The reference is transformers' class ``hf_class`` (default: ``arch``);
    the checkpoint's ``architectures`` is ``[arch]`` either way, so that the
    engine builds ``arch``.
    """
    import torch
    import transformers

    model_cls = reference_class(arch, hf_class, config_path)
    if config_path is not None:
        try:
            data = json.loads(config_path.read_text())
            config = transformers.AutoConfig.for_model(**data)
        except (OSError, ValueError, KeyError) as exc:
            raise ScaffoldError(
                f"cannot use as a config: {exc}", path=str(config_path)
            ) from None
        config.architectures = [arch]
        make = model_cls or transformers.AutoModelForCausalLM.from_config
    else:
        config = model_cls.config_class(**TINY_CONFIG, architectures=[arch])
        make = model_cls
    torch.manual_seed(0)
    model = make(config).eval()
    # Our own progress lines only: not transformers' "Writing model shards".
    transformers.utils.logging.disable_progress_bar()
    model.save_pretrained(folder)
    if config.get_text_config().vocab_size == TINY_CONFIG["vocab_size"]:
        save_byte_tokenizer(folder)
    return model


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
    tree: Tree, folder: Path, model: TreeModel | None = None
) -> dict[str, Any]:
    """The tree's engine on ``folder`` (a subprocess importing that tree).

    With ``model`` (a vLLM checkout), the installed vllm_stub runs the tree's
    model file instead, from the checkpoint folder and writing no bytecode.
    """
    command = [sys.executable, "-m", "scaffold.verify.engine_main", str(folder)]
    command += [json.dumps(PROMPT), str(NEW_TOKENS)]
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
) -> VerifyResult:
    """Build a checkpoint in ``folder``, run both sides, compare.

    ``model``: run a vLLM checkout's model file on vllm_stub (``upstream``).
    """
    import torch

    reference = build_checkpoint(arch, config_path, folder, hf_class)
    engine = run_engine(tree, folder, model)
    input_ids = torch.tensor([PROMPT])
    # The engine ignores EOS (it may pick it, and goes on); so must the
    # reference: no EOS to stop at, rather than min_new_tokens, which would
    # mask the EOS logit and pick another token where EOS is the argmax.
    reference.generation_config.eos_token_id = None
    with torch.inference_mode():
        logits = reference(input_ids).logits[0]
        start = time.perf_counter()
        generated = reference.generate(
            input_ids,
            attention_mask=torch.ones_like(input_ids),
            do_sample=False,
            max_new_tokens=NEW_TOKENS,
        )
        seconds = time.perf_counter() - start
    reference_tokens = generated[0, len(PROMPT) :].tolist()
    diff = (torch.tensor(engine["logits"]) - logits).abs().max().item()
    return VerifyResult(
        max_logit_diff=diff,
        tokens_equal=engine["tokens"] == reference_tokens,
        engine_tokens=engine["tokens"],
        reference_tokens=reference_tokens,
        engine_tokens_per_s=engine["tokens_per_s"],
        reference_tokens_per_s=len(reference_tokens) / seconds,
    )
