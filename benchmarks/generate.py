"""Throughput of ``vllm_stub.LLM.generate`` against transformers ``generate``.

One run, one random-weight checkpoint, the same prompts for both engines: greedy
decoding with EOS ignored, batch 8 and batch 1, 32 prompt tokens, 64 new tokens.
Also prints the "matmul floor" (the time the model's linear layers alone need
for the same work), the fraction of it the engine reaches, and memory use.

    python benchmarks/generate.py --shape 30m
    python benchmarks/generate.py --shape 135m
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from vllm_stub import LLM, SamplingParams
from vllm_stub.model_executor.layers.linear import LinearBase
from vllm_stub.model_executor.layers.utils import unquantized_gemm

SHAPES = {
    "30m": {
        "hidden_size": 512,
        "intermediate_size": 1376,
        "num_hidden_layers": 8,
        "num_attention_heads": 8,
        "num_key_value_heads": 4,
        "vocab_size": 16000,
        "tie_word_embeddings": True,
    },
    # SmolLM2-135M's shape
    "135m": {
        "hidden_size": 576,
        "intermediate_size": 1536,
        "num_hidden_layers": 30,
        "num_attention_heads": 9,
        "num_key_value_heads": 3,
        "vocab_size": 49152,
        "tie_word_embeddings": True,
        "rms_norm_eps": 1e-5,
        "rope_parameters": {"rope_type": "default", "rope_theta": 100000.0},
    },
}
PROMPT_LEN = 32
NEW_TOKENS = 64
BATCHES = (8, 1)


def _best_time(fn: Callable[[], object], repeats: int) -> float:
    """The fastest of ``repeats`` timed calls (after one warm-up call)."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _rss_mib() -> float:
    """Current resident set size."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def _matmul_floor_s(llm: LLM, batch: int) -> float:
    """Seconds the linear layers (and LM head) need for prefill plus decode."""
    weights = [m.weight for m in llm.model.modules() if isinstance(m, LinearBase)]
    lm_head = llm.model.lm_head.weight

    def step(num_tokens: int, logits_rows: int) -> None:
        # the GEMM the engine's layers run, so the floor stays theirs
        for weight in weights:
            unquantized_gemm(torch.randn(num_tokens, weight.shape[1]), weight)
        unquantized_gemm(torch.randn(logits_rows, lm_head.shape[1]), lm_head)

    with torch.inference_mode():
        prefill = _best_time(lambda: step(batch * PROMPT_LEN, batch), 3)
        decode = _best_time(lambda: step(batch, batch), 10)
    return prefill + (NEW_TOKENS - 1) * decode


def _bench(folder: Path, batch: int, repeats: int) -> dict[str, float]:
    generator = torch.Generator().manual_seed(batch)
    prompts = torch.randint(0, 1000, (batch, PROMPT_LEN), generator=generator)
    llm = LLM(str(folder), dtype="float32")
    params = SamplingParams(temperature=0, max_tokens=NEW_TOKENS, ignore_eos=True)
    requests = [{"prompt_token_ids": p} for p in prompts.tolist()]
    rss = []

    def run_engine() -> None:
        llm.generate(requests, params, use_tqdm=False)
        rss.append(_rss_mib())

    engine_s = _best_time(run_engine, repeats)
    hf_model = LlamaForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    hf_model.generation_config.eos_token_id = None

    def run_hf() -> None:
        hf_model.generate(
            prompts,
            attention_mask=torch.ones_like(prompts),
            do_sample=False,
            max_new_tokens=NEW_TOKENS,
            pad_token_id=0,
        )

    with torch.inference_mode():
        hf_s = _best_time(run_hf, repeats)
    tokens = batch * NEW_TOKENS
    floor_s = _matmul_floor_s(llm, batch)
    return {
        "engine": tokens / engine_s,
        "hf": tokens / hf_s,
        "floor": tokens / floor_s,
        "rss_growth": rss[-1] - rss[0],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Build the checkpoint, run both engines at each batch size, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default="30m")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    config = LlamaConfig(max_position_embeddings=2048, **SHAPES[args.shape])
    with tempfile.TemporaryDirectory() as tmp:
        torch.manual_seed(0)
        model = LlamaForCausalLM(config)
        params = sum(p.numel() for p in model.parameters()) / 1e6
        model.save_pretrained(tmp)
        del model
        print(
            f"shape {args.shape} ({params:.1f}M params), fp32, "
            f"{args.threads} threads, {PROMPT_LEN} prompt + {NEW_TOKENS} new tokens"
        )
        print(
            f"{'batch':>5} {'engine tok/s':>13} {'hf tok/s':>9} {'ratio':>6} "
            f"{'floor tok/s':>12} {'of floor':>9} {'rss growth':>11}"
        )
        for batch in BATCHES:
            r = _bench(Path(tmp), batch, args.repeats)
            print(
                f"{batch:>5} {r['engine']:>13.1f} {r['hf']:>9.1f} "
                f"{r['engine'] / r['hf']:>5.2f}x {r['floor']:>12.1f} "
                f"{r['engine'] / r['floor']:>8.0%} {r['rss_growth']:>+8.1f} MiB"
            )
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mib:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
