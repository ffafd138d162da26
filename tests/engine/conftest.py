"""Fixtures: tiny random transformers checkpoints saved to temporary folders."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
import transformers
from torch.fx import GraphModule

# Small enough for 2 CPU cores; a wide init keeps logits far from uniform so
# greedy argmax does not hinge on rounding.
TINY = {
    "vocab_size": 256,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "max_position_embeddings": 256,
    "initializer_range": 0.2,
}


@pytest.fixture(scope="session")
def make_checkpoint(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[..., tuple[Path, torch.nn.Module]]:
    """``make(arch, **config_overrides) -> (folder, fp32 transformers model)``."""

    def make(arch: str = "LlamaForCausalLM", **overrides: object) -> tuple[Path, ...]:
        model_cls = getattr(transformers, arch)
        config = model_cls.config_class(**{**TINY, **overrides})
        torch.manual_seed(0)
        model = model_cls(config).eval()
        folder = tmp_path_factory.mktemp(arch)
        model.save_pretrained(folder)
        return folder, model

    return make


@pytest.fixture(params=["kernels", "pytorch"])
def kernel_path(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Run the test once on the built C++ kernels and once on the PyTorch forms.

    The kernels must build here (CI has a compiler): a silent fallback would
    hide both their bugs and the engine's speed.
    """
    from vllm_stub import _custom_ops

    enabled = request.param == "kernels"
    monkeypatch.setenv("VLLM_STUB_CPU_KERNELS", "1" if enabled else "0")
    _custom_ops.forget_kernels()
    assert (_custom_ops.kernels() is not None) == enabled
    yield request.param
    _custom_ops.forget_kernels()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Quick tests run engines eagerly; slow ones trace decode steps, as users get.

    Tracing a model costs about a second on these cores (0.2 s a layer), more
    than most quick tests take; ``test_decode_graph.py`` checks the traced
    path in the quick subset. A ``VLLM_STUB_COMPILE`` set by whoever runs
    the suite is left alone. Engines built by module-scoped fixtures decide
    when they are built, for the first test that asks.
    """
    if "VLLM_STUB_COMPILE" in os.environ:
        return
    item.stash[_SET_COMPILE] = True
    os.environ["VLLM_STUB_COMPILE"] = "1" if "slow" in item.keywords else "0"


@pytest.hookimpl(trylast=True)  # after fixtures (monkeypatch) have undone theirs
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Undo ``pytest_runtest_setup``'s setting."""
    if item.stash.get(_SET_COMPILE, False):
        os.environ.pop("VLLM_STUB_COMPILE", None)


_SET_COMPILE = pytest.StashKey[bool]()


@pytest.fixture
def ops() -> object:
    """The built C++ kernels (``torch.ops.vllm_stub_cpu``); skips without them."""
    from vllm_stub import _custom_ops

    kernels = _custom_ops.kernels()
    if kernels is None:
        pytest.skip("the fused ops exist in the C++ kernels only")
    return kernels


@pytest.fixture(scope="session")
def run_rewrite() -> Callable[..., tuple[GraphModule, list[str]]]:
    """``run(graph, rewrite, count) -> (graph as it was, the ops it calls now)``.

    Runs a ``fusion.py`` pass on ``graph`` and recompiles it; checks that the
    pass rewrote ``count`` places and that a second run changes nothing.
    """

    def run(graph: GraphModule, rewrite: Callable[[GraphModule], int], count: int):
        before = GraphModule(graph, graph.graph.__deepcopy__())
        assert rewrite(graph) == count
        graph.recompile()
        code = graph.code
        assert rewrite(graph) == 0
        assert graph.code == code
        calls = [str(n.target) for n in graph.graph.nodes if n.op == "call_function"]
        return before, calls

    return run
