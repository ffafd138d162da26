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
from typing import Any


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


def _prefill_logits(llm: Any, prompt: dict[str, Any]) -> Any:
    """Every prompt position's logits (``LLM.generate`` keeps the last one's).

    Called outside the runner, the model treats its input as one causal
    sequence; a multimodal prompt's images are embedded and merged over its
    expanded placeholders as the runner merges them.
    """
    import torch

    engine = llm.llm_engine
    _, token_ids, mm_input = engine.input_processor.process(prompt)
    ids = torch.tensor(token_ids)
    inputs_embeds = None
    with torch.inference_mode():
        if mm_input is not None:
            is_multimodal = torch.zeros(len(token_ids), dtype=torch.bool)
            is_multimodal[mm_input.placeholder_positions] = True
            embeddings = llm.model.embed_multimodal(
                pixel_values=mm_input.pixel_values.to(torch.float32)
            )
            inputs_embeds = llm.model.embed_input_ids(
                ids, embeddings, is_multimodal=is_multimodal
            )
        hidden = llm.model(ids, torch.arange(len(ids)), inputs_embeds=inputs_embeds)
        return llm.model.compute_logits(hidden)


def _generate(llm: Any, prompt: dict[str, Any], max_tokens: int) -> dict[str, Any]:
    """Prefill logits, greedy tokens and tokens/s of one prompt."""
    from vllm_stub import SamplingParams

    logits = _prefill_logits(llm, prompt)
    params = SamplingParams(temperature=0, max_tokens=max_tokens, ignore_eos=True)
    start = time.perf_counter()
    # stderr is captured by the caller, which reads its last line on failure
    output = llm.generate(prompt, params, use_tqdm=False)
    seconds = time.perf_counter() - start
    tokens = list(output[0].outputs[0].token_ids)
    return {
        "logits": logits.tolist(),
        "tokens": tokens,
        "tokens_per_s": len(tokens) / seconds,
    }


def _pool(llm: Any, task: str, prompts: list[list[int]]) -> dict[str, Any]:
    """Each prompt's pooled vector (one batch) and sequences/s."""
    batch = [{"prompt_token_ids": prompt} for prompt in prompts]
    pool = llm.classify if task == "classify" else llm.embed
    pool(batch[:1], use_tqdm=False)  # warm up: the first call pays set-up costs
    start = time.perf_counter()
    outputs = pool(batch, use_tqdm=False)
    seconds = time.perf_counter() - start
    pooled = [
        out.outputs.probs if task == "classify" else out.outputs.embedding
        for out in outputs
    ]
    vectors = [list(map(float, vector)) for vector in pooled]
    return {"mode": task, "pooled": vectors, "seqs_per_s": len(prompts) / seconds}


def main(argv: list[str]) -> int:
    """``python -m scaffold.verify.engine_main MODE FOLDER PROMPT_JSON MAX_TOKENS``
    ``[PACKAGE MODELS_DIR ARCH MODULE CLASS]``.

    MODE is ``scaffold.verify.modes``'s: ``generate`` and ``multimodal`` take
    one prompt (``multimodal`` with the folder's image), ``embed`` and
    ``classify`` a list of prompts. Asked to generate with a pooling model,
    it prints only the task to pool for.
    """
    if len(argv) > 4:
        _load_tree_model(*argv[4:9])
    from vllm_stub import LLM

    mode, folder, prompt = argv[0], argv[1], json.loads(argv[2])
    pooling = mode in ("embed", "classify")
    runner = "pooling" if pooling else "auto"
    llm = LLM(model=folder, dtype="float32", seed=0, runner=runner)
    if pooling:
        result = _pool(llm, mode, prompt)
    elif llm.vllm_config.model_config.runner_type == "pooling":
        tasks = llm.llm_engine.get_supported_tasks()
        result = {"mode": "embed" if "embed" in tasks else "classify"}
    else:
        request: dict[str, Any] = {"prompt_token_ids": prompt}
        if mode == "multimodal":
            from PIL import Image

            from scaffold.verify.images import IMAGE_FILE

            image = Image.open(Path(folder, IMAGE_FILE)).convert("RGB")
            request["multi_modal_data"] = {"image": image}
        result = _generate(llm, request, int(argv[3]))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
