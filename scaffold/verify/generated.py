"""Generation parity: prefill logits and greedy tokens against transformers.

Text prompts as they are; a multimodal prompt with its image placeholder
expanded and the image's pixel values, as the engine processed it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scaffold.verify import images
from scaffold.verify.modes import MULTIMODAL
from scaffold.verify.pooled import format_rows

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
    with_image: bool = False

    @property
    def passed(self) -> bool:
        """Greedy tokens equal and logits within tolerance."""
        return self.tokens_equal and self.max_logit_diff <= LOGIT_TOLERANCE

    @property
    def summary(self) -> str:
        """What was compared, in a few words."""
        image = ", the prompt with a random image" if self.with_image else ""
        return f"compared on {len(self.reference_tokens)} greedy tokens{image}"

    def table(self, arch: str) -> str:
        """The result as a small text table."""
        rows = [
            ("architecture", arch),
            ("max |Δlogit| (prefill)", f"{self.max_logit_diff:.2e}"),
            ("greedy tokens equal", "yes" if self.tokens_equal else "no"),
            ("engine tokens/s", f"{self.engine_tokens_per_s:.1f}"),
            ("transformers tokens/s", f"{self.reference_tokens_per_s:.1f}"),
        ]
        return format_rows(rows)


def compare_generated(
    reference: Any,
    engine: dict[str, Any],
    prompt: list[int],
    folder: Path,
    mode: str,
) -> VerifyResult:
    """Prefill logits and greedy tokens of the engine against ``reference``."""
    import torch

    inputs: dict[str, Any] = {}
    if mode == MULTIMODAL:
        prompt = images.expanded(prompt, reference.config)
        inputs["pixel_values"] = images.pixel_values(folder)
    input_ids = torch.tensor([prompt])
    # The engine ignores EOS (it may pick it, and goes on); so must the
    # reference: no EOS to stop at, rather than min_new_tokens, which would
    # mask the EOS logit and pick another token where EOS is the argmax.
    reference.generation_config.eos_token_id = None
    with torch.inference_mode():
        logits = reference(input_ids, **inputs).logits[0]
        start = time.perf_counter()
        generated = reference.generate(
            input_ids,
            attention_mask=torch.ones_like(input_ids),
            do_sample=False,
            max_new_tokens=NEW_TOKENS,
            **inputs,
        )
        seconds = time.perf_counter() - start
    reference_tokens = generated[0, len(prompt) :].tolist()
    diff = (torch.tensor(engine["logits"]) - logits).abs().max().item()
    return VerifyResult(
        max_logit_diff=diff,
        tokens_equal=engine["tokens"] == reference_tokens,
        engine_tokens=engine["tokens"],
        reference_tokens=reference_tokens,
        engine_tokens_per_s=engine["tokens_per_s"],
        reference_tokens_per_s=len(reference_tokens) / seconds,
        with_image=mode == MULTIMODAL,
    )
