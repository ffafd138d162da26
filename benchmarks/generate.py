"""``vllm_stub.LLM`` against transformers on one checkpoint.

Greedy decoding with EOS ignored, fp32, the same prompts for both. For each
batch size: tokens/s of each, prefill time and decode time per step of each,
and the matmul floor (the model's linear layers and LM head alone, same GEMM,
same rows, as many steps back to back as the decode has) per decode step,
timed just before and after the engine's run, all measured in alternation,
round after round, after a warm-up: times are
the best of ``--repeats`` rounds, ratios the median of each round's own. The
bound is the ratio a decode made of GEMMs only would give. Transformers
generates in a process of its own, with glibc's malloc as its users have
it (``_hf_process.py`` says why), driven call by call from this one. Then
peak RSS of each (sampled, each loaded alone, above its process's baseline
before it loaded) and RSS growth over repeated calls; then embedding
throughput (``runner="pooling"``) and LLaVA generation, each beside
transformers in this process.

    python benchmarks/generate.py                    # SmolLM2-135M's shape
    python benchmarks/generate.py --model ~/SmolLM2-135M --rows generate embed
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
import transformers
from _checkpoints import (
    IMAGE_TOKEN,
    add_model_options,
    checkpoint,
    image,
    llava,
    prompts,
)
from _hf_process import TransformersProcess, hf_generate, transformers_memory
from _measure import best_time, gemm_step_s, memory

from vllm_stub import LLM, SamplingParams

PROMPT_LEN = 32


def _greedy(tokens: int) -> SamplingParams:
    return SamplingParams(temperature=0, max_tokens=tokens, ignore_eos=True)


Runner = Callable[[int, int], float]  # run(batch, new_tokens) -> seconds


def _engine(folder: Path) -> tuple[Runner, torch.nn.Module]:
    """A freshly loaded engine's timed generate call, and its model (for the floor)."""
    llm = LLM(str(folder), dtype="float32")

    def run(batch: int, tokens: int) -> float:
        requests = [
            {"prompt_token_ids": p} for p in prompts(batch, PROMPT_LEN).tolist()
        ]
        start = time.perf_counter()
        llm.generate(requests, _greedy(tokens), use_tqdm=False)
        return time.perf_counter() - start

    return run, llm.model


Round = dict[str, Any]  # runner name: (prefill_s, total_s); "floor": seconds


def _interleaved(
    run_engine: Runner, run_hf: Runner, model: torch.nn.Module, args: argparse.Namespace
) -> dict[int, list[Round]]:
    """Each round's times per batch: both runners' prefill and total, the floor.

    The runs alternate, round after round, so that a slow spell of this
    shared machine hits all of them instead of whichever ran during it: in
    each round transformers, then the floor, the engine and the floor again.
    The floor is the mean of the two around the engine's run: the machine
    drifts by 20-30% within minutes, and one floor timed after transformers'
    run, seconds from the engine's, paired the engine with another spell
    (measured: rounds of one run gave 70% to 103% of the floor).
    """
    rounds: dict[int, list[Round]] = {}
    for batch in args.batches:
        run_engine(batch, 2)  # warm-up
        run_hf(batch, 2)
        rounds[batch] = []
        # a decode's GEMMs: one row per sequence, layers and head, as many
        # steps as the decode has
        floor_args = (model, batch, batch, args.new_tokens - 1)
        for _ in range(args.repeats):
            times: Round = {"hf": (run_hf(batch, 1), run_hf(batch, args.new_tokens))}
            floor_before = gemm_step_s(*floor_args)
            times["engine"] = (run_engine(batch, 1), run_engine(batch, args.new_tokens))
            times["floor"] = (floor_before + gemm_step_s(*floor_args)) / 2
            rounds[batch].append(times)
    return rounds


def _ratios(times: Round, new: int) -> tuple[float, float, float]:
    """One round's speed-up over transformers, decode of floor, and bound."""
    (e_pre, e_all), (_, h_all) = times["engine"], times["hf"]
    e_step, floor = (e_all - e_pre) / (new - 1), times["floor"]
    # the ratio the engine would reach if its decode steps were GEMMs only
    return h_all / e_all, floor / e_step, h_all / (e_pre + (new - 1) * floor)


def generate_rows(folder: Path, args: argparse.Namespace) -> None:
    """Generation at each batch size, prefill and decode apart, with the floor.

    Times are each the best of the rounds; the ratios are the median of each
    round's own, whose times ran minutes apart at most, so that the machine's
    drift between rounds does not pair a fast spell's floor with a slow
    spell's decode.
    """
    new, largest = args.new_tokens, max(args.batches)
    engine_rss = memory(lambda: _engine(folder)[0], largest, new)
    hf_rss = transformers_memory(folder, args.threads, PROMPT_LEN, largest, new)
    run_engine, model = _engine(folder)
    hf = TransformersProcess(folder, args.threads, PROMPT_LEN)
    rounds = _interleaved(run_engine, hf.run, model, args)
    hf.close()
    print(
        f"{'batch':>5} {'engine tok/s':>12} {'hf tok/s':>9} {'ratio':>6} "
        f"{'prefill ms e/hf':>16} {'decode ms/step e/hf':>20} "
        f"{'floor ms':>9} {'of floor':>9} {'bound':>6}"
    )
    for batch in args.batches:
        best = {name: min(r[name] for r in rounds[batch]) for name in ("engine", "hf")}
        (e_pre, e_all), (h_pre, h_all) = best["engine"], best["hf"]
        e_step, h_step = (e_all - e_pre) / (new - 1), (h_all - h_pre) / (new - 1)
        floor = min(r["floor"] for r in rounds[batch])
        ratio, of_floor, bound = (
            statistics.median(column)
            for column in zip(*(_ratios(r, new) for r in rounds[batch]), strict=True)
        )
        print(
            f"{batch:>5} {batch * new / e_all:>12.1f} {batch * new / h_all:>9.1f} "
            f"{ratio:>5.2f}x {e_pre * 1e3:>7.0f}/{h_pre * 1e3:<8.0f} "
            f"{e_step * 1e3:>9.1f}/{h_step * 1e3:<10.1f} "
            f"{floor * 1e3:>9.1f} {of_floor:>8.0%} {bound:>5.2f}x"
        )
    print(
        f"peak RSS above baseline (each loaded alone, batch {largest}): engine "
        f"{engine_rss[0]:.0f} MiB, transformers {hf_rss[0]:.0f} MiB; growth over "
        f"3 more calls: engine {engine_rss[1]:+.1f} MiB, transformers "
        f"{hf_rss[1]:+.1f} MiB"
    )


def embed_row(folder: Path, args: argparse.Namespace, batch: int = 32) -> None:
    """Sequences/s of ``LLM.embed`` against transformers' last hidden state."""
    ids = prompts(batch, PROMPT_LEN)
    requests = [{"prompt_token_ids": p} for p in ids.tolist()]
    embed = LLM(str(folder), runner="pooling", dtype="float32").embed
    engine_s = best_time(lambda: embed(requests, use_tqdm=False), args.repeats)
    embed = None  # frees the engine before transformers loads
    hf = transformers.AutoModel.from_pretrained(folder, dtype=torch.float32).eval()

    def run_hf() -> None:
        with torch.inference_mode():
            last = hf(input_ids=ids).last_hidden_state[:, -1]
            torch.nn.functional.normalize(last, dim=-1)

    hf_s = best_time(run_hf, args.repeats)
    print(
        f"embed, batch {batch}: engine {batch / engine_s:.1f} seq/s, transformers "
        f"{batch / hf_s:.1f} seq/s, {hf_s / engine_s:.2f}x"
    )


def llava_row(args: argparse.Namespace, batch: int = 8) -> None:
    """LLaVA generation, one image per prompt, against transformers."""
    new = args.new_tokens
    with tempfile.TemporaryDirectory() as tmp:
        folder = llava(Path(tmp))
        images = [image(seed) for seed in range(batch)]
        ids = prompts(batch, PROMPT_LEN).tolist()
        requests = [
            {"prompt_token_ids": [IMAGE_TOKEN, *p], "multi_modal_data": {"image": i}}
            for p, i in zip(ids, images, strict=True)
        ]
        run = LLM(str(folder), dtype="float32").generate
        engine_s = best_time(
            lambda: run(requests, _greedy(new), use_tqdm=False), args.repeats
        )
        run = None  # frees the engine before transformers loads
        hf = transformers.LlavaForConditionalGeneration.from_pretrained(
            folder, dtype=torch.float32
        ).eval()
        pixels = transformers.CLIPImageProcessor.from_pretrained(folder)(
            images, return_tensors="pt"
        )["pixel_values"]
        tokens = (
            hf.config.vision_config.image_size // hf.config.vision_config.patch_size
        )
        expanded = torch.tensor([[IMAGE_TOKEN] * tokens**2 + p for p in ids])
        hf_s = best_time(
            lambda: hf_generate(hf, expanded, new, pixel_values=pixels), args.repeats
        )
    print(
        f"llava, batch {batch}: engine {batch * new / engine_s:.1f} tok/s, "
        f"transformers {batch * new / hf_s:.1f} tok/s, {hf_s / engine_s:.2f}x"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, build or take the checkpoint, print each row."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_options(parser)
    parser.add_argument("--shape", choices=["135m", "30m"], default="135m")
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--rows",
        nargs="+",
        choices=["generate", "embed", "llava"],
        default=["generate", "embed", "llava"],
    )
    args = parser.parse_args(argv)
    with checkpoint(args, args.shape) as folder:
        print(
            f"{args.model or f'random-weight {args.shape} checkpoint'}, fp32, "
            f"{args.threads} threads, {PROMPT_LEN} prompt + {args.new_tokens} new "
            "tokens, greedy, EOS ignored"
        )
        if "generate" in args.rows:
            generate_rows(folder, args)
        if "embed" in args.rows:
            embed_row(folder, args)
    if "llava" in args.rows and args.model is None:
        llava_row(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
