"""``LLMEngine``: add_request / step / has_unfinished_requests, as vLLM's."""

from __future__ import annotations

import pytest

from vllm_stub import LLM, SamplingParams
from vllm_stub.engine.llm_engine import LLMEngine
from vllm_stub.outputs import RequestOutput

PROMPTS = [[3, 1, 4, 1, 5], [9, 2, 6], [5, 3, 5, 8, 9, 7, 9]]


def _params(max_tokens: int) -> SamplingParams:
    return SamplingParams(temperature=0, max_tokens=max_tokens, ignore_eos=True)


@pytest.fixture(scope="module")
def llm(make_checkpoint) -> LLM:
    folder, _ = make_checkpoint(num_key_value_heads=2)
    return LLM(str(folder), max_num_seqs=2)


def _cache_bound(engine: LLMEngine) -> bool:
    return any(a.kv_cache is not None for a in engine.model_runner.attention_layers)


def _drain(engine: LLMEngine) -> list[list[RequestOutput]]:
    steps = []
    while engine.has_unfinished_requests():
        steps.append(engine.step())
    return steps


def test_stepping_by_hand_matches_generate(llm: LLM) -> None:
    params = [_params(n) for n in (4, 7, 2)]
    expected = llm.generate([{"prompt_token_ids": p} for p in PROMPTS], params)
    engine = llm.llm_engine
    for i, (prompt, sampling) in enumerate(zip(PROMPTS, params, strict=True)):
        engine.add_request(f"r{i}", {"prompt_token_ids": prompt}, sampling)
    steps = _drain(engine)
    finished = [output for step in steps for output in step]
    # each request is reported once, by the step that finished it
    assert sorted(o.request_id for o in finished) == ["r0", "r1", "r2"]
    by_id = {o.request_id: o.outputs[0].token_ids for o in finished}
    assert [by_id[f"r{i}"] for i in range(3)] == [
        o.outputs[0].token_ids for o in expected
    ]
    assert any(step == [] for step in steps)  # decode steps finishing nothing
    assert engine.step() == []
    assert not _cache_bound(engine)


def test_a_request_added_mid_run_that_outgrows_the_cache_waits(llm: LLM) -> None:
    engine = llm.llm_engine
    alone = llm.generate({"prompt_token_ids": PROMPTS[2]}, _params(12))
    engine.add_request("one", {"prompt_token_ids": PROMPTS[1]}, _params(1))
    engine.add_request("short", {"prompt_token_ids": PROMPTS[1]}, _params(3))
    # prefill binds a two-slot cache sized for these two; "one" frees its slot
    assert [o.request_id for o in engine.step()] == ["one"]
    engine.add_request("long", {"prompt_token_ids": PROMPTS[2]}, _params(12))
    assert engine.scheduler.free_slots  # a slot is free, but too short
    outputs = {o.request_id: o for step in _drain(engine) for o in step}
    assert outputs["long"].outputs[0].token_ids == alone[0].outputs[0].token_ids
    assert len(outputs["short"].outputs[0].token_ids) == 3


def test_abort_drops_waiting_and_running_requests(llm: LLM) -> None:
    engine = llm.llm_engine
    engine.add_request("a", {"prompt_token_ids": PROMPTS[0]}, _params(5))
    engine.add_request("b", {"prompt_token_ids": PROMPTS[1]}, _params(5))
    engine.step()
    assert _cache_bound(engine)
    engine.abort_request(["a", "b"])
    assert not engine.has_unfinished_requests()
    assert not _cache_bound(engine)


def test_a_bad_prompt_queues_none_of_its_call(llm: LLM) -> None:
    good = {"prompt_token_ids": PROMPTS[0]}
    with pytest.raises(ValueError, match="prompt is empty"):
        llm.generate([good, {"prompt_token_ids": []}], use_tqdm=False)
    assert not llm.llm_engine.has_unfinished_requests()
    outputs = llm.generate([good], _params(2), use_tqdm=False)
    assert [len(o.outputs[0].token_ids) for o in outputs] == [2]


def test_the_engine_keeps_llm_attributes(llm: LLM) -> None:
    assert llm.model is llm.llm_engine.model
    assert llm.vllm_config is llm.llm_engine.vllm_config
