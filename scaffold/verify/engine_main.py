"""Run a checkpoint through a tree's own engine; prints JSON (a subprocess).

``scaffold verify`` starts this with ``PYTHONPATH=<tree root>`` so that the
tree's ``vllm_stub`` is imported, not the installed one, and torch stays out
of the calling process until it is needed.
"""

from __future__ import annotations

import json
import sys
import time


def main(argv: list[str]) -> int:
    """``python -m scaffold.verify.engine_main FOLDER PROMPT_IDS_JSON MAX_TOKENS``."""
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
