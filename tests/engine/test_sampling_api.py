"""vLLM 0.33's sampling parameters in the engine, checked against transformers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from transformers import LogitsProcessor, LogitsProcessorList

from vllm_stub import LLM, SamplingParams

PROMPT = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]


@pytest.fixture(scope="module")
def model(make_checkpoint) -> tuple[Path, torch.nn.Module, LLM]:
    folder, hf_model = make_checkpoint(num_key_value_heads=2)
    hf_model.generation_config.eos_token_id = None
    return folder, hf_model, LLM(str(folder))


def _completion(llm: LLM, params: SamplingParams, prompt: list[int] = PROMPT):
    return llm.generate({"prompt_token_ids": prompt}, params, use_tqdm=False)[0]


def _hf_generate(hf_model: torch.nn.Module, max_new_tokens: int, **kwargs):
    out = hf_model.generate(
        torch.tensor([PROMPT]),
        do_sample=False,
        max_new_tokens=max_new_tokens,
        pad_token_id=0,
        **kwargs,
    )
    return out[0, len(PROMPT) :].tolist()


class _OpenAIPenalties(LogitsProcessor):
    """Presence and frequency penalties over the generated tokens only."""

    def __init__(self, prompt_len: int, presence: float, frequency: float) -> None:
        self.prompt_len, self.presence, self.frequency = prompt_len, presence, frequency

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        generated = input_ids[:, self.prompt_len :]
        counts = torch.zeros_like(scores).scatter_add_(
            1, generated, torch.ones_like(generated, dtype=scores.dtype)
        )
        return scores - self.frequency * counts - self.presence * (counts > 0)


def test_greedy_repetition_penalty_matches_transformers(model) -> None:
    _, hf_model, llm = model
    params = SamplingParams(
        temperature=0, max_tokens=24, ignore_eos=True, repetition_penalty=1.5
    )
    tokens = _completion(llm, params).outputs[0].token_ids
    assert tokens == _hf_generate(hf_model, 24, repetition_penalty=1.5)
    plain = SamplingParams(temperature=0, max_tokens=24, ignore_eos=True)
    assert tokens != _completion(llm, plain).outputs[0].token_ids


def test_presence_and_frequency_penalties_follow_openai_after_repetition(
    model,
) -> None:
    _, hf_model, llm = model
    params = SamplingParams(
        temperature=0,
        max_tokens=24,
        ignore_eos=True,
        repetition_penalty=1.2,
        presence_penalty=1.5,
        frequency_penalty=0.7,
    )
    tokens = _completion(llm, params).outputs[0].token_ids
    penalties = _OpenAIPenalties(len(PROMPT), presence=1.5, frequency=0.7)
    expected = _hf_generate(
        hf_model,
        24,
        repetition_penalty=1.2,
        logits_processor=LogitsProcessorList([penalties]),
    )
    assert tokens == expected
    assert tokens != _hf_generate(hf_model, 24, repetition_penalty=1.2)


def test_min_tokens_holds_back_eos_as_transformers_min_new_tokens(
    make_checkpoint,
) -> None:
    folder, hf_model = make_checkpoint(num_hidden_layers=1)
    first = _hf_generate(hf_model, 1)[0]
    config = json.loads((folder / "generation_config.json").read_text())
    (folder / "generation_config.json").write_text(
        json.dumps({**config, "eos_token_id": first})
    )
    llm = LLM(str(folder))
    eager = _completion(llm, SamplingParams(temperature=0, max_tokens=12)).outputs[0]
    assert eager.token_ids == [first]
    # without a tokenizer the config's EOS acts as a stop token, as in vLLM
    assert (eager.finish_reason, eager.stop_reason) == ("stop", first)
    params = SamplingParams(temperature=0, max_tokens=12, min_tokens=4)
    held = _completion(llm, params).outputs[0]
    assert len(held.token_ids) >= 4 and first not in held.token_ids[:4]
    expected = _hf_generate(hf_model, 12, min_new_tokens=4, eos_token_id=first)
    assert held.token_ids == expected


@pytest.mark.slow
def test_min_p_keeps_only_tokens_near_the_most_likely(model) -> None:
    _, hf_model, llm = model
    greedy = SamplingParams(temperature=0, max_tokens=12, ignore_eos=True)
    only_top = SamplingParams(min_p=1.0, max_tokens=12, ignore_eos=True, seed=1)
    assert (
        _completion(llm, only_top).outputs[0].token_ids
        == _completion(llm, greedy).outputs[0].token_ids
        == _hf_generate(hf_model, 12)
    )
    params = SamplingParams(min_p=0.3, max_tokens=20, ignore_eos=True, logprobs=1)
    for seed in range(3):
        params.seed = seed
        completion = _completion(llm, params).outputs[0]
        for token_id, step in zip(
            completion.token_ids, completion.logprobs, strict=True
        ):
            top = next(lp for lp in step.values() if lp.rank == 1)
            assert step[token_id].logprob >= top.logprob + math.log(0.3) - 1e-5


def test_max_tokens_none_generates_to_the_model_length(model) -> None:
    folder, _, _ = model
    llm = LLM(str(folder), max_model_len=20)
    params = SamplingParams(temperature=0, max_tokens=None, ignore_eos=True)
    completion = _completion(llm, params).outputs[0]
    assert (len(completion.token_ids), completion.finish_reason) == (9, "length")
    with pytest.raises(ValueError, match="min_tokens must be less than or equal"):
        _completion(llm, SamplingParams(max_tokens=None, min_tokens=10))
    with pytest.raises(ValueError, match=r"length 20\).*output tokens"):
        _completion(llm, params, prompt=list(range(20)))


@pytest.mark.slow
def test_n_completions_per_prompt_use_seed_plus_index(model) -> None:
    _, _, llm = model
    params = SamplingParams(n=3, temperature=1.0, seed=11, max_tokens=8)
    output = _completion(llm, params)
    assert [c.index for c in output.outputs] == [0, 1, 2]
    for index, completion in enumerate(output.outputs):
        alone = SamplingParams(temperature=1.0, seed=11 + index, max_tokens=8)
        assert completion.token_ids == _completion(llm, alone).outputs[0].token_ids
    assert len({tuple(c.token_ids) for c in output.outputs}) > 1
    # a batch with n > 1 keeps prompt order and one output per prompt
    batch = llm.generate(
        [{"prompt_token_ids": [7, 8]}, {"prompt_token_ids": PROMPT}],
        [SamplingParams(n=2, max_tokens=3), params],
        use_tqdm=False,
    )
    assert [len(o.outputs) for o in batch] == [2, 3]
    assert [o.prompt_token_ids for o in batch] == [[7, 8], PROMPT]
    assert batch[1].outputs == output.outputs


def test_cumulative_logprob_sums_the_sampled_tokens_logprobs(model) -> None:
    _, hf_model, llm = model
    params = SamplingParams(temperature=0, max_tokens=6, ignore_eos=True, logprobs=0)
    completion = _completion(llm, params).outputs[0]
    hf = hf_model.generate(
        torch.tensor([PROMPT]),
        do_sample=False,
        max_new_tokens=6,
        pad_token_id=0,
        output_logits=True,
        return_dict_in_generate=True,
    )
    expected = sum(
        step[0].float().log_softmax(-1)[token].item()
        for step, token in zip(hf.logits, completion.token_ids, strict=True)
    )
    assert completion.cumulative_logprob == pytest.approx(expected, abs=1e-4)
    assert completion.cumulative_logprob == pytest.approx(
        sum(
            step[t].logprob
            for t, step in zip(completion.token_ids, completion.logprobs, strict=True)
        )
    )
    no_logprobs = SamplingParams(temperature=0, max_tokens=6, ignore_eos=True)
    plain = _completion(llm, no_logprobs).outputs[0]
    assert plain.cumulative_logprob is None and plain.logprobs is None


def test_prompt_logprobs_match_transformers_and_leave_sampling_alone(model) -> None:
    _, hf_model, llm = model
    with torch.inference_mode():
        expected = hf_model(torch.tensor([PROMPT])).logits[0].log_softmax(-1)
    params = SamplingParams(temperature=0, max_tokens=5, prompt_logprobs=2)
    plain = SamplingParams(temperature=0, max_tokens=5)
    scored, other = llm.generate(
        [{"prompt_token_ids": PROMPT}, {"prompt_token_ids": [9, 9, 4]}],
        [params, plain],
        use_tqdm=False,
    )
    assert scored.prompt_logprobs[0] is None
    assert len(scored.prompt_logprobs) == len(PROMPT)
    for position, step in enumerate(scored.prompt_logprobs[1:], start=1):
        token = PROMPT[position]
        assert step[token].logprob == pytest.approx(
            expected[position - 1, token].item(), abs=1e-4
        )
        assert {lp.rank for lp in step.values()} >= {1, 2}
    assert other.prompt_logprobs is None
    alone = [
        _completion(llm, plain, p).outputs[0].token_ids for p in (PROMPT, [9, 9, 4])
    ]
    assert [scored.outputs[0].token_ids, other.outputs[0].token_ids] == alone


def test_n_children_step_and_abort_under_their_parent_id(model) -> None:
    _, _, llm = model
    engine = llm.llm_engine
    params = SamplingParams(n=2, temperature=1.0, seed=5, max_tokens=3)
    engine.add_request("p", {"prompt_token_ids": PROMPT}, params)
    outputs = []
    while engine.has_unfinished_requests():
        outputs.extend(engine.step())
    assert [o.request_id for o in outputs] == ["p"]
    assert [len(c.token_ids) for c in outputs[0].outputs] == [3, 3]
    engine.add_request("q", {"prompt_token_ids": PROMPT}, params)
    engine.step()
    engine.abort_request(["q"])
    assert not engine.has_unfinished_requests()
    assert engine.step() == []
