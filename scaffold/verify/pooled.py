"""Pooling parity: the engine's pooled vectors against transformers'.

``embed``: transformers' last hidden state (the backbone's, after its final
norm) of the last token, L2-normalised, as vLLM pools a converted causal LM.
``classify``: the softmax of a ``*ForSequenceClassification``'s logits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from scaffold.errors import ScaffoldError
from scaffold.verify.modes import EMBED

# Prompts of different lengths, pooled as one batch by the engine.
POOLING_PROMPTS = [
    [1, 17, 42, 99, 5, 63, 200, 7, 18, 121, 33, 250],
    [1, 5, 9],
    [7, 200, 13, 250, 2, 8, 77],
]
MIN_COSINE = 0.9999
MAX_DIFF = 1e-4  # fp32 on both sides: differences are ~1e-6
_WHAT = {
    "embed": "embed (last token, L2-normalised)",
    "classify": "classify (softmax probs)",
}


@dataclass(frozen=True)
class PoolingResult:
    """What ``verify`` measured for a pooling model."""

    task: str
    min_cosine: float
    max_diff: float
    num_prompts: int
    engine_seqs_per_s: float
    reference_seqs_per_s: float

    @property
    def passed(self) -> bool:
        """Every prompt's vector close in direction and in every component."""
        return self.min_cosine >= MIN_COSINE and self.max_diff <= MAX_DIFF

    @property
    def summary(self) -> str:
        """What was compared, in a few words."""
        return f"compared pooled vectors of {self.num_prompts} prompts"

    def table(self, arch: str) -> str:
        """The result as a small text table."""
        return format_rows(
            [
                ("architecture", arch),
                ("pooling task", _WHAT[self.task]),
                ("min cosine", f"{self.min_cosine:.6f}"),
                ("max |Δ|", f"{self.max_diff:.2e}"),
                ("engine seqs/s", f"{self.engine_seqs_per_s:.1f}"),
                ("transformers seqs/s", f"{self.reference_seqs_per_s:.1f}"),
            ]
        )


def format_rows(rows: list[tuple[str, str]]) -> str:
    """``name  value`` lines, the names padded to one width."""
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def pooled_reference(reference: Any, prompts: list[list[int]], task: str) -> Any:
    """transformers' vector per prompt (rows of a tensor), and seqs/s."""
    import torch
    import torch.nn.functional as F

    vectors = []
    with torch.inference_mode():
        reference(torch.tensor([prompts[0]]))  # warm up, as the engine does
    start = time.perf_counter()
    with torch.inference_mode():
        for prompt in prompts:
            ids = torch.tensor([prompt])
            if task == EMBED:
                # base_model: the backbone of a causal LM, or the model itself
                hidden = reference.base_model(ids).last_hidden_state[0, -1]
                vectors.append(F.normalize(hidden, dim=-1))
            else:
                vectors.append(reference(ids).logits[0].softmax(-1))
    seconds = time.perf_counter() - start
    return torch.stack(vectors), len(prompts) / seconds


def compare_pooled(reference: Any, engine: dict[str, Any], task: str) -> PoolingResult:
    """The engine's pooled vectors (``engine["pooled"]``) against the reference."""
    import torch
    import torch.nn.functional as F

    expected, reference_rate = pooled_reference(reference, POOLING_PROMPTS, task)
    got = torch.tensor(engine["pooled"], dtype=expected.dtype)
    if got.shape != expected.shape:
        raise ScaffoldError(
            f"the engine pooled {tuple(got.shape)}, transformers "
            f"{tuple(expected.shape)} (prompts x size)"
        )
    return PoolingResult(
        task=task,
        min_cosine=F.cosine_similarity(got, expected, dim=-1).min().item(),
        max_diff=(got - expected).abs().max().item(),
        num_prompts=len(POOLING_PROMPTS),
        engine_seqs_per_s=engine["seqs_per_s"],
        reference_seqs_per_s=reference_rate,
    )
