"""Stop strings, stop tokens and EOS in the output text, as vLLM 0.33 has them."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from vllm_stub import LLM, SamplingParams

PROMPT = "w3 w17 w99"
MAX_TOKENS = 16


def _word_tokenizer(eos: str = "<eos>") -> PreTrainedTokenizerFast:
    """Words ``w2``..``w254`` are token ids 2..254; text is words joined by spaces."""
    vocab = {"<unk>": 0, "<eos>": 1, **{f"w{i}": i for i in range(2, 255)}}
    # transformers' stop-string matcher probes the vocabulary with this word
    vocab["abcdef"] = 255
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="<unk>", eos_token=eos
    )


@pytest.fixture(scope="module")
def setup(make_checkpoint):
    folder, hf_model = make_checkpoint()
    hf_model.generation_config.eos_token_id = None
    tokenizer = _word_tokenizer()
    tokenizer.save_pretrained(folder)
    llm = LLM(str(folder))
    greedy = SamplingParams(temperature=0, max_tokens=MAX_TOKENS, ignore_eos=True)
    tokens = llm.generate(PROMPT, greedy, use_tqdm=False)[0].outputs[0].token_ids
    return folder, hf_model, tokenizer, llm, tokens


def _greedy(llm: LLM, **fields: object):
    params = SamplingParams(temperature=0, max_tokens=MAX_TOKENS, **fields)
    return llm.generate(PROMPT, params, use_tqdm=False)[0].outputs[0]


def _first_new_word(tokens: list[int], start: int) -> int:
    """The index of the first token from ``start`` on not generated before it."""
    return next(i for i in range(start, len(tokens)) if tokens[i] not in tokens[:i])


def test_stop_string_ends_where_transformers_stops_and_is_cut(setup) -> None:
    _, hf_model, tokenizer, llm, tokens = setup
    index = _first_new_word(tokens, 3)
    stop = tokenizer.decode([tokens[index]])
    completion = _greedy(llm, stop=[stop, "never seen"], ignore_eos=True)
    prompt_ids = tokenizer.encode(PROMPT)
    hf = hf_model.generate(
        torch.tensor([prompt_ids]),
        do_sample=False,
        max_new_tokens=MAX_TOKENS,
        pad_token_id=0,
        stop_strings=[stop],
        tokenizer=tokenizer,
    )[0, len(prompt_ids) :].tolist()
    assert completion.token_ids == hf == tokens[: index + 1]
    assert (completion.finish_reason, completion.stop_reason) == ("stop", stop)
    full_text = tokenizer.decode(tokens[: index + 1])
    assert completion.text == full_text[: full_text.index(stop)]
    kept = _greedy(llm, stop=stop, ignore_eos=True, include_stop_str_in_output=True)
    assert (kept.token_ids, kept.text) == (completion.token_ids, full_text)


def test_a_stop_string_may_span_tokens(setup) -> None:
    _, _, tokenizer, llm, tokens = setup
    stop = tokenizer.decode(tokens[1:3])
    assert " " in stop
    completion = _greedy(llm, stop=stop, ignore_eos=True)
    assert completion.token_ids == tokens[:3]
    assert completion.text == tokenizer.decode(tokens[:1]) + " "


def test_stop_strings_are_not_looked_for_in_the_first_min_tokens(setup) -> None:
    _, _, tokenizer, llm, tokens = setup
    stop = tokenizer.decode(tokens[1:2])
    early = _greedy(llm, stop=stop, ignore_eos=True)
    assert early.token_ids == tokens[:2]
    late = _greedy(llm, stop=stop, ignore_eos=True, min_tokens=3)
    assert len(late.token_ids) > 3 and late.token_ids == tokens[: len(late.token_ids)]
    if late.finish_reason == "stop":
        # ended by a later occurrence, which is cut; the early one stays
        full_text = tokenizer.decode(late.token_ids)
        assert late.text == full_text.removesuffix(stop) != full_text


def test_stop_token_ids_stay_in_token_ids_but_not_in_text(setup) -> None:
    _, _, tokenizer, llm, tokens = setup
    index = _first_new_word(tokens, 2)
    completion = _greedy(llm, stop_token_ids=[tokens[index]], ignore_eos=True)
    assert completion.token_ids == tokens[: index + 1]
    assert (completion.finish_reason, completion.stop_reason) == ("stop", tokens[index])
    assert completion.text == tokenizer.decode(tokens[:index])
    kept = _greedy(llm, stop_token_ids=[tokens[index]], include_stop_str_in_output=True)
    assert kept.text == tokenizer.decode(tokens[: index + 1])


def test_the_tokenizers_eos_stops_with_no_stop_reason(setup, tmp_path: Path) -> None:
    folder, _, tokenizer, _, tokens = setup
    # a tokenizer folder of its own, whose EOS is the first greedy token
    _word_tokenizer(eos=tokenizer.decode(tokens[:1])).save_pretrained(tmp_path)
    llm = LLM(str(folder), tokenizer=str(tmp_path))
    assert llm.get_tokenizer().eos_token_id == tokens[0]
    completion = _greedy(llm)
    assert completion.token_ids == tokens[:1]
    assert (completion.finish_reason, completion.stop_reason) == ("stop", None)
    assert completion.text == ""
    assert len(_greedy(llm, ignore_eos=True).token_ids) == MAX_TOKENS


def test_stop_strings_need_a_tokenizer(make_checkpoint) -> None:
    folder, _ = make_checkpoint(num_hidden_layers=1)
    with pytest.raises(ValueError, match="stop strings need a tokenizer"):
        LLM(str(folder)).generate(
            {"prompt_token_ids": [1, 2]}, SamplingParams(stop="x")
        )
