"""Decode steps replayed without dynamo once it chose the graph (direct_replay.py).

Each test counts the calls that went through dynamo (the compiled forward)
and the graph's runs, and checks every output against the eager forward.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from vllm_stub import LLM, SamplingParams
from vllm_stub.compilation import decode_graph
from vllm_stub.compilation.decorators import support_torch_compile
from vllm_stub.compilation.direct_replay import is_weight
from vllm_stub.forward_context import (
    AttentionMetadata,
    get_forward_context,
    set_forward_context,
)


@pytest.fixture
def counts(ops, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Engines built after this trace their decode steps; counts dynamo's calls
    (``"dynamo"``), the graph's runs (``"graph"``) and the graphs' inputs."""
    monkeypatch.setenv("VLLM_STUB_COMPILE", "1")
    seen = {"dynamo": 0, "graph": 0, "inputs": [], "attributes": []}
    run_as_traced = decode_graph._run_as_traced

    def counting_backend(graph: torch.fx.GraphModule, inputs: list) -> object:
        placeholders = graph.graph.find_nodes(op="placeholder")
        seen["inputs"].append([n.meta["grapharg"].source.name for n in placeholders])
        seen["attributes"].append(len(graph.graph.find_nodes(op="get_attr")))
        forward = run_as_traced(graph, inputs)

        def run(*args: object) -> object:
            seen["graph"] += 1
            return forward(*args)

        return run

    monkeypatch.setattr(decode_graph, "_run_as_traced", counting_backend)
    compile_forward = torch.compile

    def counting_compile(*args: object, **kwargs: object) -> object:
        compiled = compile_forward(*args, **kwargs)

        def through_dynamo(*call_args: object, **call_kwargs: object) -> object:
            seen["dynamo"] += 1
            return compiled(*call_args, **call_kwargs)

        return through_dynamo

    monkeypatch.setattr(torch, "compile", counting_compile)
    return seen


def _step(batch: int, length: int = 1) -> AttentionMetadata:
    lens = torch.full((batch,), length)
    return AttentionMetadata(False, torch.arange(batch), lens, max_context_len=length)


@support_torch_compile
class _Scaled(nn.Module):
    """x times a weight, plus the step's longest context when asked."""

    def __init__(self, *, vllm_config: object, prefix: str = "") -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.arange(1.0, 7.0), requires_grad=False)
        self.add_length = False
        self.offset = 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x * self.weight + self.offset
        if self.add_length:  # a guarded constant of the step's metadata
            out = out + get_forward_context().attn_metadata.max_context_len
        return out


def _model(add_length: bool = False) -> _Scaled:
    config = SimpleNamespace(
        model_config=SimpleNamespace(enforce_eager=False, dtype=torch.float32)
    )
    model = _Scaled(vllm_config=config)
    model.add_length = add_length
    return model


def test_steps_after_a_batch_size_s_first_skip_dynamo(counts) -> None:
    model = _model()
    batches = [1, 1, 1, 4, 4, 1, 4, 3, 3]
    for step, batch in enumerate(batches):
        x = torch.full((batch, 6), float(step))  # new values, same shapes
        with set_forward_context(_step(batch)):
            assert torch.equal(model(x), x * torch.arange(1.0, 7.0))
    # the first step of each batch size went through dynamo, which traced
    # batch 1, batch 4, then a graph that leaves the batch size free
    assert counts["dynamo"] == 3 and counts["graph"] == len(batches)
    # the weight is in each graph, not among its inputs (x, and the sizes and
    # numbers dynamo left free)
    for inputs in counts["inputs"]:
        assert "L['x']" in inputs and not any(map(is_weight, inputs))
    assert counts["attributes"] == [1, 1]


def test_a_new_value_of_a_guarded_constant_goes_through_dynamo(counts) -> None:
    model = _model(add_length=True)
    x = torch.ones(2, 6)
    lengths = [3, 3, 5, 5, 3]
    for length in lengths:
        with set_forward_context(_step(2, length)):
            assert torch.equal(model(x), x * torch.arange(1.0, 7.0) + length)
    assert counts["dynamo"] == 2 and counts["graph"] == len(lengths)


def test_a_number_dynamo_leaves_free_is_each_model_s_own(counts) -> None:
    # Two models whose offsets differ: dynamo, seeing a second value where it
    # traced the first, leaves the number free and passes it as a tensor.
    models = [_model(), _model()]
    models[1].offset = 0.5
    x = torch.ones(2, 6)
    for _ in range(3):
        for model in models:
            with set_forward_context(_step(2)):
                expected = x * torch.arange(1.0, 7.0) + model.offset
                assert torch.equal(model(x), expected)
    assert counts["dynamo"] == 2 and counts["graph"] == 6
    assert "L['self'].offset" in counts["inputs"][1]


def test_an_engine_s_decode_steps_skip_dynamo_after_each_batch_size_s_first(
    make_checkpoint, counts
) -> None:
    folder, _ = make_checkpoint()
    traced, eager = LLM(str(folder)), LLM(str(folder), enforce_eager=True)
    params = SamplingParams(temperature=0, max_tokens=6, ignore_eos=True)
    for prompts in ([[5, 17, 99, 3]], [[1, 2, 3], [7] * 9], [[4], [8, 9]]):
        requests = [{"prompt_token_ids": p} for p in prompts]
        tokens = [[o.outputs[0].token_ids for o in llm.generate(requests, params)]
                  for llm in (traced, eager)]  # fmt: skip
        assert tokens[0] == tokens[1]
    # 3 calls of 5 decode steps; batch 2 came twice and went through dynamo once
    assert counts["graph"] == 15 and counts["dynamo"] == 2
    # the weights are in the graphs; among their inputs are the step's
    # tensors (and numbers dynamo left free: with another model traced in the
    # process first, the norms' epsilons and some weights' sizes)
    for inputs in counts["inputs"]:
        weights = [s for s in inputs if is_weight(s) and ".size()" not in s]
        assert "L['input_ids']" in inputs and weights == [], inputs
        # no tensor's storage offset is read each step: none differs
        assert not any("storage_offset()" in source for source in inputs), inputs
    assert min(counts["attributes"]) > 0
