"""``SamplingParams`` accepts and normalises values as vLLM 0.33 does."""

from __future__ import annotations

import pytest

from vllm_stub import SamplingParams


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"n": 0}, "n must be at least 1"),
        ({"n": 1.5}, "n must be an int"),
        ({"presence_penalty": 2.5}, r"presence_penalty must be in \[-2, 2\]"),
        ({"frequency_penalty": -3.0}, r"frequency_penalty must be in \[-2, 2\]"),
        ({"repetition_penalty": 0.0}, "repetition_penalty must be greater than zero"),
        ({"repetition_penalty": float("inf")}, "repetition_penalty must be finite"),
        ({"temperature": 2.5}, r"temperature must be in \[0, 2\]"),
        ({"temperature": float("nan")}, "temperature must be finite"),
        ({"min_p": 1.5}, r"min_p must be in \[0, 1\]"),
        ({"min_p": -0.1}, r"min_p must be in \[0, 1\]"),
        ({"min_tokens": -1}, "min_tokens must be an int >= 0"),
        ({"min_tokens": 5, "max_tokens": 4}, "min_tokens must be less than or equal"),
        ({"max_tokens": 0}, "max_tokens must be an int >= 1 or None"),
        ({"prompt_logprobs": -2}, "prompt_logprobs must be an int >= 0"),
        ({"stop": ["ok", ""]}, "stop cannot contain an empty string"),
        ({"stop": [3]}, "stop must be a string or a list of strings"),
        ({"n": 2, "temperature": 0}, "n must be 1 when using greedy sampling"),
    ],
)
def test_invalid_values_raise_value_error_naming_the_field(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        SamplingParams(**fields)


def test_defaults_are_vllms() -> None:
    params = SamplingParams()
    assert (params.n, params.max_tokens, params.min_tokens) == (1, 16, 0)
    assert (params.repetition_penalty, params.presence_penalty) == (1.0, 0.0)
    assert (params.frequency_penalty, params.min_p) == (0.0, 0.0)
    assert params.stop == [] and params.stop_token_ids == []
    assert params.logprobs is None and params.prompt_logprobs is None
    assert not params.include_stop_str_in_output


def test_values_are_normalised_as_vllm_does() -> None:
    assert SamplingParams(stop="###").stop == ["###"]
    assert SamplingParams(stop_token_ids=[5, 3, 5]).stop_token_ids == [5, 3]
    assert SamplingParams(seed=-1).seed is None
    assert SamplingParams(logprobs=True, prompt_logprobs=True).logprobs == 1
    assert SamplingParams(max_tokens=None, min_tokens=100).max_tokens is None
    # a tiny positive temperature is raised to 0.01 (softmax overflows below)
    assert SamplingParams(temperature=1e-3).temperature == 0.01
    # greedy ignores the sampling filters
    greedy = SamplingParams(temperature=0, top_p=0.5, top_k=3, min_p=0.2)
    assert (greedy.top_p, greedy.top_k, greedy.min_p) == (1.0, 0, 0.0)
    assert SamplingParams(temperature=0.7, n=4).n == 4
