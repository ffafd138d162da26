"""Traced decode steps (``compilation/decode_graph.py``) against eager ones.

The traced graph runs the same kernels on the same values, so every test
compares tokens for equality, and counts the graph's replays to show which
steps took it.
"""

from __future__ import annotations

import logging
from types import MethodType, SimpleNamespace

import pytest
import torch
from torch import nn

from vllm_stub import LLM, SamplingParams
from vllm_stub.compilation import decode_graph
from vllm_stub.compilation.decorators import support_torch_compile
from vllm_stub.forward_context import AttentionMetadata, set_forward_context

STEPS = 5
GREEDY = SamplingParams(temperature=0, max_tokens=STEPS + 1, ignore_eos=True)
# batch sizes 1, 4 (unequal lengths), 2: a static trace, then one that leaves
# the batch size free, then a replay of that one
BATCHES = [
    [[5, 17, 99, 3]],
    [[1, 2, 3], list(range(40, 71)), [200], [7] * 9],
    [[9, 8, 7, 6, 5], [11, 12]],
]


@pytest.fixture
def replays(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Engines built after this compile decode steps; counts each graph replay."""
    monkeypatch.setenv("VLLM_STUB_COMPILE", "1")
    count = [0]
    run_as_traced = decode_graph._run_as_traced

    def counting_backend(graph: torch.fx.GraphModule, inputs: list) -> object:
        forward = run_as_traced(graph, inputs)

        def replay(*args: object) -> object:
            count[0] += 1
            return forward(*args)

        return replay

    monkeypatch.setattr(decode_graph, "_run_as_traced", counting_backend)
    return count


@pytest.fixture
def traced_graphs(
    replays: list[int], monkeypatch: pytest.MonkeyPatch
) -> list[torch.fx.GraphModule]:
    """As ``replays``, and collects each graph traced (each call of the backend)."""
    graphs: list[torch.fx.GraphModule] = []
    backend = decode_graph._run_as_traced

    def recording_backend(graph: torch.fx.GraphModule, inputs: list) -> object:
        graphs.append(graph)
        return backend(graph, inputs)

    monkeypatch.setattr(decode_graph, "_run_as_traced", recording_backend)
    return graphs


def _greedy_tokens(
    llm: LLM, prompts: list[list[int]], params: SamplingParams = GREEDY
) -> list[list[int]]:
    requests = [{"prompt_token_ids": p} for p in prompts]
    return [o.outputs[0].token_ids for o in llm.generate(requests, params)]


def _graphs(llm: LLM) -> list[decode_graph.DecodeGraph]:
    model = llm.llm_engine.model_runner.model
    return [m._decode_graph for m in model.modules() if "_decode_graph" in vars(m)]


@pytest.mark.parametrize(
    ("arch", "overrides"),
    [
        ("LlamaForCausalLM", {"num_key_value_heads": 2}),
        # Qwen2 runs Llama's layers here: the slow run is enough
        pytest.param(
            "Qwen2ForCausalLM", {"tie_word_embeddings": True}, marks=pytest.mark.slow
        ),
    ],
)
def test_traced_decode_steps_give_the_eager_tokens(
    make_checkpoint, kernel_path, replays, arch, overrides
) -> None:
    folder, _ = make_checkpoint(arch, **overrides)
    eager, traced = LLM(str(folder), enforce_eager=True), LLM(str(folder))
    assert _graphs(eager) == [] and len(_graphs(traced)) == 1
    for prompts in BATCHES:
        assert _greedy_tokens(traced, prompts) == _greedy_tokens(eager, prompts)
    # every decode step replayed the graph, and no prefill did; the PyTorch
    # forms (no fused kernels) run eagerly
    assert replays[0] == (len(BATCHES) * STEPS if kernel_path == "kernels" else 0)
    assert not _graphs(traced)[0].failed


def test_each_engine_replays_its_own_graph(make_checkpoint, replays) -> None:
    # guards on the model's structure and constants are dropped, so a graph
    # shared by two models that differ only in their norms' epsilon (baked
    # into the graph) would run one model with the other's
    plain, _ = make_checkpoint()
    coarse, _ = make_checkpoint(rms_norm_eps=0.5)
    engines = {folder: LLM(str(folder)) for folder in (plain, coarse)}
    expected = {
        folder: _greedy_tokens(LLM(str(folder), enforce_eager=True), BATCHES[1])
        for folder in engines
    }
    assert expected[plain] != expected[coarse]
    for _ in range(2):
        for folder, llm in engines.items():
            assert _greedy_tokens(llm, BATCHES[1]) == expected[folder]
    assert replays[0] == 4 * STEPS


def test_a_new_cache_size_replays_the_graph(
    make_checkpoint, kernel_path, traced_graphs
) -> None:
    # Each generate call sizes its K/V cache anew (here longer and longer
    # outputs). The kernels hold the caches, so they are not the graph's
    # inputs and a new size traces nothing (csrc/cpu/kv_cache_table.cpp).
    folder, _ = make_checkpoint()
    traced, eager = LLM(str(folder)), LLM(str(folder), enforce_eager=True)
    for max_tokens in (3, 6, 9):
        params = SamplingParams(temperature=0, max_tokens=max_tokens, ignore_eos=True)
        expected = _greedy_tokens(eager, BATCHES[1], params)
        assert _greedy_tokens(traced, BATCHES[1], params) == expected
    assert len(traced_graphs) == (1 if kernel_path == "kernels" else 0)


def test_a_traced_step_calls_no_contiguous_on_contiguous_rows(
    make_checkpoint, traced_graphs
) -> None:
    # the packed GEMMs and the positions give contiguous rows; a contiguous()
    # call per linear layer would still be an op call in every step
    folder, _ = make_checkpoint()
    llm = LLM(str(folder))
    # a static trace, then the free batch size; one trace when an engine of
    # this process has left the batch size free already (dynamo remembers it
    # per function, across engines)
    for prompts in BATCHES[1:]:
        _greedy_tokens(llm, prompts)
    assert traced_graphs
    targets = [str(n.target) for g in traced_graphs for n in g.graph.nodes]
    assert "vllm_stub_cpu.packed_gemm" in targets and "contiguous" not in targets


def test_a_traced_step_runs_the_rewritten_kernels(
    make_checkpoint, traced_graphs
) -> None:
    # fusion.py: each layer's rotary folded into its attention, every norm
    # but the first with a residual made in place, each SiLU into its GEMM;
    # same tokens
    folder, model = make_checkpoint()
    llm = LLM(str(folder))
    eager = LLM(str(folder), enforce_eager=True)
    assert _greedy_tokens(llm, BATCHES[1]) == _greedy_tokens(eager, BATCHES[1])
    assert traced_graphs
    layers = model.config.num_hidden_layers
    for graph in traced_graphs:
        targets = [str(n.target) for n in graph.graph.nodes]
        assert targets.count("vllm_stub_cpu.rotary_decode_attention") == layers
        assert "vllm_stub_cpu.rotary_embedding" not in targets
        assert "vllm_stub_cpu.decode_attention" not in targets
        # two norms a layer and the final one, the first of all left as it was
        assert targets.count("vllm_stub_cpu.fused_add_rms_norm_") == 2 * layers - 1
        assert targets.count("vllm_stub_cpu.fused_add_rms_norm") == 1
        # each MLP's SiLU applied by its gate/up GEMM
        assert targets.count("vllm_stub_cpu.packed_gemm_silu_and_mul") == layers
        assert "vllm_stub_cpu.silu_and_mul" not in targets


def test_only_float32_engines_that_may_compile_get_a_graph(
    make_checkpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, _ = make_checkpoint()
    monkeypatch.setenv("VLLM_STUB_COMPILE", "1")
    assert len(_graphs(LLM(str(folder)))) == 1
    assert _graphs(LLM(str(folder), enforce_eager=True)) == []
    assert _graphs(LLM(str(folder), dtype="bfloat16")) == []
    monkeypatch.setenv("VLLM_STUB_COMPILE", "0")
    assert _graphs(LLM(str(folder))) == []
    # a torch without guard filters would check ~6000 guards a step
    monkeypatch.setenv("VLLM_STUB_COMPILE", "1")
    monkeypatch.delattr(torch.compiler, "skip_guard_on_all_nn_modules_unsafe")
    assert _graphs(LLM(str(folder))) == []


def _toy_config() -> SimpleNamespace:
    return SimpleNamespace(
        model_config=SimpleNamespace(enforce_eager=False, dtype=torch.float32)
    )


def _decode_step(batch: int) -> AttentionMetadata:
    return AttentionMetadata(
        False, torch.arange(batch), context_lens=torch.ones(batch, dtype=torch.long)
    )


@support_torch_compile
class _Doubles(nn.Module):
    def __init__(self, *, vllm_config: object, prefix: str = "") -> None:
        super().__init__()
        self.factor = 2.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor


@support_torch_compile  # as vLLM's Qwen3Model(Qwen2Model): decorated twice
class _Triples(_Doubles):
    def __init__(self, *, vllm_config: object, prefix: str = "") -> None:
        super().__init__(vllm_config=vllm_config, prefix=prefix)
        self.factor = 3.0


@support_torch_compile
class _DoublesPlusOne(_Doubles):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) + 1


@support_torch_compile
class _RowSums(_Doubles):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # the traced graph keeps x.shape[0] as the number it had
        return x.reshape(x.shape[0], -1).sum(-1)


@support_torch_compile
class _Untraceable(_Doubles):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        torch._dynamo.graph_break()  # fullgraph tracing refuses this
        return super().forward(x)


@torch._dynamo.allow_in_graph
def _halves(x: torch.Tensor) -> torch.Tensor:
    # FX calls this as it is; TorchScript cannot compile a set
    return x / len({"one", "two"})


@support_torch_compile
class _Halves(_Doubles):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _halves(x)


@pytest.mark.parametrize(
    ("torchscript", "forward_type"),
    [("1", torch._C.ScriptMethod), ("0", MethodType)],
)
def test_graphs_run_by_torchscript_unless_switched_off(
    monkeypatch: pytest.MonkeyPatch, torchscript: str, forward_type: type
) -> None:
    monkeypatch.setenv("VLLM_STUB_COMPILE", "1")
    monkeypatch.setenv("VLLM_STUB_TORCHSCRIPT", torchscript)
    forwards = []

    def recording_backend(graph: torch.fx.GraphModule, inputs: list) -> object:
        forwards.append(run_as_traced(graph, inputs))
        return forwards[-1]

    run_as_traced = decode_graph._run_as_traced
    monkeypatch.setattr(decode_graph, "_run_as_traced", recording_backend)
    model = _Doubles(vllm_config=_toy_config())
    with set_forward_context(_decode_step(1)):
        assert torch.equal(model(torch.arange(4.0)), torch.arange(4.0) * 2)
    assert [type(f) for f in forwards] == [forward_type]


def test_a_graph_torchscript_refuses_runs_from_python_and_says_so_once(
    replays, caplog: pytest.LogCaptureFixture
) -> None:
    model = _Halves(vllm_config=_toy_config())
    x = torch.arange(4.0)
    with caplog.at_level(logging.WARNING), set_forward_context(_decode_step(1)):
        for _ in range(3):
            assert torch.equal(model(x), x / 2)
    warnings = [r for r in caplog.records if "call their ops from Python" in r.message]
    assert len(warnings) == 1 and replays[0] == 3
    assert not model._decode_graph.failed


def test_a_new_batch_size_traces_again(replays) -> None:
    model = _RowSums(vllm_config=_toy_config())
    for batch in (1, 4, 3, 1):
        x = torch.arange(batch * 6.0).view(batch, 6)
        with set_forward_context(_decode_step(batch)):
            assert torch.equal(model(x), x.sum(-1))
    assert replays[0] == 4


@pytest.mark.parametrize(
    ("model_class", "expected"),
    [(_Doubles, 2 * 5.0), (_Triples, 3 * 5.0), (_DoublesPlusOne, 2 * 5.0 + 1)],
)
def test_subclasses_of_decorated_models_get_one_graph_of_their_own_forward(
    replays, model_class, expected
) -> None:
    model = model_class(vllm_config=_toy_config())
    with set_forward_context(_decode_step(1)):
        for _ in range(2):
            assert model(torch.full((1, 4), 5.0)).eq(expected).all()
    assert replays[0] == 2


def test_a_model_that_cannot_be_traced_runs_eagerly_and_says_so_once(
    kernel_path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VLLM_STUB_COMPILE", "1")
    model = _Untraceable(vllm_config=_toy_config())
    x = torch.arange(4.0)
    with caplog.at_level(logging.WARNING), set_forward_context(_decode_step(1)):
        assert torch.equal(model(x), x * 2)
        assert torch.equal(model(x), x * 2)
    warnings = [
        r for r in caplog.records if "runs its decode steps eagerly" in r.message
    ]
    # without the kernels nothing is traced, so nothing fails
    assert len(warnings) == (1 if kernel_path == "kernels" else 0)
    assert model._decode_graph.failed == (kernel_path == "kernels")


def _guard(name: str, guard_type: str = "TENSOR_MATCH") -> SimpleNamespace:
    return SimpleNamespace(name=name, guard_type=guard_type)


GUARDS = [
    # the call's arguments and torch's global state
    (_guard("input_ids"), True),
    (_guard("inputs_embeds", "CONSTANT_MATCH"), True),
    (_guard("", "GRAD_MODE"), True),
    # the step's metadata
    (_guard("G['fc']._forward_context.attn_metadata.slots"), True),
    (_guard("G['fc']._forward_context.attn_metadata", "TYPE_MATCH"), True),
    # a tensor on the module that is not a weight: a model's own state
    (_guard("self._modules['layers']._modules['0'].attn.state[0]"), True),
    # the module's weights, structure and closures, and imported modules
    (_guard("self._modules['norm']._parameters['weight']"), False),
    (_guard("self._modules['rope']._buffers['cos_sin_cache']"), False),
    (_guard("self._modules['qkv'].cpu_linear.__closure__[1].cell_contents"), False),
    (_guard("self._modules['layers']", "TYPE_MATCH"), False),
    (_guard("self.config.vocab_size", "EQUALS_MATCH"), False),
    (_guard("G['cpu_fast_paths']", "MODULE_MATCH"), False),
]


@pytest.mark.parametrize(("guard", "kept"), GUARDS, ids=lambda g: getattr(g, "name", g))
def test_guards_kept_are_those_on_what_changes_between_steps(guard, kept) -> None:
    assert decode_graph._keep_changing_guards([guard]) == [kept]
