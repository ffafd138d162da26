"""The engine against transformers on tiny random checkpoints (fp32)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vllm_stub import LLM, SamplingParams

# Each case builds and runs two models end to end (~10 s): not in the quick subset.
pytestmark = pytest.mark.slow

CASES = {
    "llama-mha": ("LlamaForCausalLM", {}),
    "llama-gqa": ("LlamaForCausalLM", {"num_key_value_heads": 2}),
    "llama-head-dim": ("LlamaForCausalLM", {"head_dim": 32, "num_key_value_heads": 2}),
    "llama-tied-bias": (
        "LlamaForCausalLM",
        {"tie_word_embeddings": True, "attention_bias": True, "mlp_bias": True},
    ),
    "llama-rope-llama3": (
        "LlamaForCausalLM",
        {
            "rope_parameters": {
                "rope_type": "llama3",
                "rope_theta": 5000.0,
                "factor": 4.0,
                "low_freq_factor": 1.0,
                "high_freq_factor": 4.0,
                "original_max_position_embeddings": 32,
            }
        },
    ),
    "llama-rope-linear": (
        "LlamaForCausalLM",
        {"rope_parameters": {"rope_type": "linear", "rope_theta": 1e4, "factor": 2.0}},
    ),
    "llama-rope-yarn": (
        "LlamaForCausalLM",
        {
            "rope_parameters": {
                "rope_type": "yarn",
                "rope_theta": 1e4,
                "factor": 4.0,
                "original_max_position_embeddings": 64,
            }
        },
    ),
    "qwen2-tied": ("Qwen2ForCausalLM", {"tie_word_embeddings": True}),
    "qwen2-untied": (
        "Qwen2ForCausalLM",
        {"tie_word_embeddings": False, "num_key_value_heads": 2},
    ),
}
PROMPTS = [[5, 17, 99, 3], list(range(40, 71)), [200], [7, 7, 7, 7, 7, 7, 7, 7, 7]]
GREEDY = SamplingParams(temperature=0, max_tokens=24, ignore_eos=True)


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request, make_checkpoint) -> tuple[Path, torch.nn.Module, LLM]:
    arch, overrides = CASES[request.param]
    folder, hf_model = make_checkpoint(arch, **overrides)
    return folder, hf_model, LLM(str(folder))


def _hf_greedy(hf_model: torch.nn.Module, prompt: list[int]) -> list[int]:
    hf_model.generation_config.eos_token_id = None
    out = hf_model.generate(
        torch.tensor([prompt]), do_sample=False, max_new_tokens=24, pad_token_id=0
    )
    return out[0, len(prompt) :].tolist()


def test_prefill_logits_match_transformers(case) -> None:
    _, hf_model, llm = case
    ids = torch.tensor(PROMPTS[1])
    with torch.inference_mode():
        expected = hf_model(ids[None]).logits[0]
        hidden = llm.model(ids, torch.arange(len(ids)))
        actual = llm.model.compute_logits(hidden)
    torch.testing.assert_close(actual, expected, atol=1e-4, rtol=1e-4)


def test_greedy_tokens_match_transformers_generate(case, kernel_path) -> None:
    # on the C++ kernels and on their PyTorch forms (``kernel_path``); the
    # latter loads its own engine, as its weights are then not packed
    folder, hf_model, llm = case
    if kernel_path == "pytorch":
        llm = LLM(str(folder))
    outputs = llm.generate(
        [{"prompt_token_ids": p} for p in PROMPTS], GREEDY, use_tqdm=False
    )
    for prompt, output in zip(PROMPTS, outputs, strict=True):
        completion = output.outputs[0]
        assert output.prompt_token_ids == prompt
        assert completion.token_ids == _hf_greedy(hf_model, prompt)
        assert completion.finish_reason == "length"


def test_batch_gives_each_prompt_its_solo_tokens(case) -> None:
    _, _, llm = case
    batched = llm.generate(
        [{"prompt_token_ids": p} for p in PROMPTS], GREEDY, use_tqdm=False
    )
    for prompt, output in zip(PROMPTS, batched, strict=True):
        alone = llm.generate({"prompt_token_ids": prompt}, GREEDY, use_tqdm=False)
        assert output.outputs[0].token_ids == alone[0].outputs[0].token_ids
