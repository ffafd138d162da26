"""Run a checkpoint through a tree's own engine; prints JSON (a subprocess).

``scaffold verify`` starts this with ``PYTHONPATH=<tree root>`` so that the
tree's ``vllm_stub`` is imported, not the installed one, and torch stays out
of the calling process until it is needed. For a vLLM checkout it passes the
model's package, models folder, architecture, module and class: the tree's
model files then run on the installed ``vllm_stub`` through ``alias``'s
import hook, and no bytecode is written into the tree.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path


def _load_tree_model(
    package: str, models_dir: str, arch: str, module: str, cls: str
) -> None:
    """Register ARCH as the tree's ``module:cls``, imported through the hook."""
    sys.dont_write_bytecode = True
    from scaffold.verify.alias import install

    install(Path(models_dir), package)
    try:
        importlib.import_module(module)
    except ImportError as exc:
        # the parent read the imports already; this is one made at run time
        raise SystemExit(
            f"{module}: {str(exc).replace('vllm_stub', package)}"
        ) from None
    from vllm_stub.model_executor.models.registry import ModelRegistry

    ModelRegistry.models.pop(arch, None)  # the stub's own class of that name
    ModelRegistry.register_model(arch, f"{module}:{cls}")


def main(argv: list[str]) -> int:
    """``python -m scaffold.verify.engine_main FOLDER PROMPT_IDS_JSON MAX_TOKENS``
    ``[PACKAGE MODELS_DIR ARCH MODULE CLASS]``."""
    if len(argv) > 3:
        _load_tree_model(*argv[3:8])
    import torch

    from vllm_stub import LLM, SamplingParams

    folder, prompt, max_tokens = argv[0], json.loads(argv[1]), int(argv[2])
    llm = LLM(model=folder, dtype="float32", seed=0)
    # Every position's logits for the prompt (LLM.generate keeps only the
    # last one's): called outside the runner, the model treats its input as
    # one causal sequence.
    with torch.inference_mode():
        hidden = llm.model(torch.tensor(prompt), torch.arange(len(prompt)))
        logits = llm.model.compute_logits(hidden)
    params = SamplingParams(temperature=0, max_tokens=max_tokens, ignore_eos=True)
    start = time.perf_counter()
    # stderr is captured by the caller, which reads its last line on failure
    output = llm.generate({"prompt_token_ids": prompt}, params, use_tqdm=False)
    seconds = time.perf_counter() - start
    tokens = output[0].outputs[0].token_ids
    print(
        json.dumps(
            {
                "logits": logits.tolist(),
                "tokens": list(tokens),
                "tokens_per_s": len(tokens) / seconds,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
