"""Engine behaviour beyond parity: sampling, stopping, batching, text prompts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from vllm_stub import LLM, RequestOutput, SamplingParams

PROMPT = {"prompt_token_ids": [3, 1, 4, 1, 5, 9, 2, 6]}


def _save_word_tokenizer(folder: Path, vocab_size: int) -> PreTrainedTokenizerFast:
    vocab = {"<unk>": 0, "<eos>": 1, **{f"w{i}": i for i in range(2, vocab_size)}}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="<unk>", eos_token="<eos>"
    )
    tokenizer.save_pretrained(folder)
    return tokenizer


@pytest.fixture(scope="module")
def llama(make_checkpoint) -> tuple[Path, LLM]:
    folder, _ = make_checkpoint(num_key_value_heads=2)
    return folder, LLM(str(folder))


def _tokens(outputs: list[RequestOutput]) -> list[list[int]]:
    return [o.outputs[0].token_ids for o in outputs]


@pytest.mark.slow
def test_seeded_sampling_is_reproducible_whatever_the_batch(llama) -> None:
    _, llm = llama
    params = SamplingParams(temperature=0.9, top_p=0.8, top_k=50, seed=7)
    alone = llm.generate(PROMPT, params, use_tqdm=False)
    batched = llm.generate(
        [{"prompt_token_ids": [8, 8]}, PROMPT], [SamplingParams(), params]
    )
    assert _tokens(alone) == _tokens(batched[1:])
    other_seed = SamplingParams(temperature=0.9, top_p=0.8, top_k=50, seed=8)
    assert _tokens(llm.generate(PROMPT, other_seed)) != _tokens(alone)


@pytest.mark.slow
def test_engine_seed_makes_unseeded_sampling_reproducible(llama) -> None:
    folder, _ = llama
    runs = [
        _tokens(LLM(str(folder), seed=1).generate([PROMPT] * 3, use_tqdm=False))
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    assert len({tuple(t) for t in runs[0]}) > 1  # rows draw different tokens


def test_logprobs_hold_the_sampled_token_and_the_top_n(llama) -> None:
    _, llm = llama
    params = SamplingParams(temperature=0, max_tokens=3, logprobs=2)
    completion = llm.generate(PROMPT, params, use_tqdm=False)[0].outputs[0]
    assert len(completion.logprobs) == 3
    for token_id, step in zip(completion.token_ids, completion.logprobs, strict=True):
        assert step[token_id].rank == 1  # greedy picks the most likely token
        assert sorted(lp.rank for lp in step.values()) == [1, 2]
        assert all(lp.logprob <= 0 for lp in step.values())


def test_stop_token_ids_and_eos_end_a_sequence(llama) -> None:
    folder, llm = llama
    greedy = SamplingParams(temperature=0, max_tokens=10, ignore_eos=True)
    first = llm.generate(PROMPT, greedy, use_tqdm=False)[0].outputs[0].token_ids[0]
    stopped = SamplingParams(temperature=0, max_tokens=10, stop_token_ids=[first])
    completion = llm.generate(PROMPT, stopped, use_tqdm=False)[0].outputs[0]
    assert (completion.token_ids, completion.finish_reason) == ([first], "stop")

    generation_config = json.loads((folder / "generation_config.json").read_text())
    generation_config["eos_token_id"] = first
    (folder / "generation_config.json").write_text(json.dumps(generation_config))
    eos_llm = LLM(str(folder))
    plain = SamplingParams(temperature=0, max_tokens=10)
    assert eos_llm.generate(PROMPT, plain)[0].outputs[0].finish_reason == "stop"
    ignored = eos_llm.generate(PROMPT, greedy)[0].outputs[0]
    assert (len(ignored.token_ids), ignored.finish_reason) == (10, "length")


@pytest.mark.slow
def test_waiting_prompts_join_as_sequences_finish(llama) -> None:
    folder, llm = llama
    prompts = [{"prompt_token_ids": [i, i + 1, i + 2]} for i in range(10, 15)]
    params = [
        SamplingParams(temperature=0, max_tokens=n, ignore_eos=True)
        for n in (2, 9, 4, 6, 3)
    ]
    narrow = LLM(str(folder), max_num_seqs=2).generate(prompts, params)
    assert _tokens(narrow) == _tokens(llm.generate(prompts, params, use_tqdm=False))
    assert [len(t) for t in _tokens(narrow)] == [2, 9, 4, 6, 3]


def test_generation_stops_at_max_model_len(llama) -> None:
    folder, _ = llama
    llm = LLM(str(folder), max_model_len=12)
    params = SamplingParams(temperature=0, max_tokens=50, ignore_eos=True)
    completion = llm.generate(PROMPT, params)[0].outputs[0]
    assert (len(completion.token_ids), completion.finish_reason) == (4, "length")


def test_text_prompts_use_the_folder_tokenizer(make_checkpoint) -> None:
    folder, _ = make_checkpoint()
    tokenizer = _save_word_tokenizer(folder, vocab_size=256)
    llm = LLM(str(folder))
    params = SamplingParams(temperature=0, max_tokens=5, ignore_eos=True)
    by_text = llm.generate("w3 w17 w99", params, use_tqdm=False)[0]
    ids = tokenizer.encode("w3 w17 w99")
    by_ids = llm.generate({"prompt_token_ids": ids}, params, use_tqdm=False)[0]
    assert by_text.prompt == "w3 w17 w99"
    assert by_text.prompt_token_ids == ids
    assert by_text.outputs[0].token_ids == by_ids.outputs[0].token_ids
    assert by_text.outputs[0].text == tokenizer.decode(by_ids.outputs[0].token_ids)
