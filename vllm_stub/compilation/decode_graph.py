"""A model's decode step, traced once with torch.compile and then replayed.

vLLM compiles a model's ``forward`` (``@support_torch_compile``) and replays
decode steps as CUDA graphs, so that a step costs its kernels and not the
Python that calls them. This engine's CPU decode step has the same problem at
a smaller scale: on SmolLM2-135M it makes ~360 calls through modules and
fast-path wrappers, and that Python costs about as much as the kernels it
calls except the GEMMs (measured: the same ops called in a bare loop save
4-5 ms of a 40 ms step at batch 8, and 5 of 9 ms on a 30-layer model with
hidden size 64, where the arithmetic costs almost nothing).

:class:`DecodeGraph` buys that back. torch.compile traces the decode step
(dynamo, through the fused kernels' fake forms) into one flat graph of op
calls, which runs as traced: no inductor, so the same kernels run in the same
order on the same values and the tokens keep every bit. TorchScript's
interpreter calls them, from C++ (see :func:`_scripted`). Only decode steps of
float32 models with the C++ kernels built take it; prefill, other dtypes and
the PyTorch fallbacks run eagerly, as does any model dynamo cannot trace whole
(the first failure is logged once).

Guards, the checks dynamo makes before each replay, are the cost to watch:
it installs ~6000 on a 30-layer model, nearly all on the module's structure,
weights and imported modules, which are fixed once the model is loaded, and
checking them took ~3 ms a step. Each model gets its own copy of ``forward``'s
code, so no other model can ever take its graph, and only the guards on what
changes between steps are kept: the call's arguments, the forward context's
metadata, and tensors on the module that are not weights. The K/V caches are
not among them: the kernels hold each layer's cache and the traced attention
op names it by a number (``csrc/cpu/kv_cache_table.cpp``), so a cache sized
anew for each generate call neither traces again nor turns the graph's sizes
symbolic, whose guards and size reads cost ~0.3 ms a step. A new batch size
traces again, at most twice: the second trace leaves the batch size free,
except for a batch of one, which torch keeps apart (one more trace if it
comes after the others).

Dynamo's frame costs even with few guards: its bytecode fetched the graph's
weights, ~180 tensors, through attribute chains on every step. So each graph
takes its weights as attributes (``direct_replay.bake_weights``), and once
dynamo has run a graph for a call, later calls with what its kept guards
check unchanged (in practice: the same batch size) replay it without dynamo
(``direct_replay.Replays``), as vLLM's compiled models skip dynamo's
dispatch: 0.45-0.6 -> ~0.1 ms a step between the model's call and its ops at
batch 8 on SmolLM2-135M's shape.
"""

from __future__ import annotations

import os
import types
import warnings
from collections.abc import Callable
from typing import Any

import torch

from vllm_stub import _custom_ops
from vllm_stub.compilation.direct_replay import MISS, Replays, bake_weights, is_weight
from vllm_stub.compilation.fusion import (
    fuse_rotary_into_attention,
    norms_in_place,
    silu_into_gate_up,
)
from vllm_stub.forward_context import get_forward_context
from vllm_stub.logger import first_line, init_logger

logger = init_logger(__name__)


def compiles_decode_steps(vllm_config: Any) -> bool:
    """Whether a model built with ``vllm_config`` should get a :class:`DecodeGraph`.

    Float32 models (the fused kernels' dtype) unless ``enforce_eager`` is set,
    as in vLLM, or ``VLLM_STUB_COMPILE=0`` is (which the test suite uses to
    skip tracing where it checks other things), and where torch can trace.
    """
    model_config = getattr(vllm_config, "model_config", None)
    return (
        model_config is not None
        and not model_config.enforce_eager
        and model_config.dtype == torch.float32
        and os.environ.get("VLLM_STUB_COMPILE", "1") != "0"
        and _torch_can_trace()
    )


def _torch_can_trace() -> bool:
    """Dynamo runs on this Python, and this torch filters guards.

    Torch releases without guard filters (they came with the
    ``torch.compiler.skip_guard_on_*`` helpers) would check every guard on
    every step, which costs more than the graph saves.
    """
    import torch._dynamo  # here, not at the top: ~2 s, for tracing engines only

    return torch._dynamo.is_dynamo_supported() and hasattr(
        torch.compiler, "skip_guard_on_all_nn_modules_unsafe"
    )


class DecodeGraph:
    """``forward``, traced for decode steps (see module docstring)."""

    def __init__(self, forward: Callable[..., Any]) -> None:
        self._forward = forward
        private_copy = types.FunctionType(
            forward.__code__.replace(),  # a new code object: dynamo caches per code
            forward.__globals__,
            forward.__name__,
            forward.__defaults__,
            forward.__closure__,
        )
        private_copy.__kwdefaults__ = forward.__kwdefaults__
        self._replays = Replays(forward)
        self._compiled = torch.compile(
            private_copy,
            backend=self._backend,
            fullgraph=True,
            options={"guard_filter_fn": self._filter_guards},
        )
        code = forward.__code__
        self._arg_names = code.co_varnames[: code.co_argcount]
        defaults = forward.__defaults__ or ()
        with_defaults = self._arg_names[len(self._arg_names) - len(defaults) :]
        self._defaults = {
            **dict(zip(with_defaults, defaults, strict=True)),
            **(forward.__kwdefaults__ or {}),
        }
        self.failed = False

    def __call__(self, module: torch.nn.Module, *args: Any, **kwargs: Any) -> Any:
        """``forward(module, ...)``: traced on a decode step, else eagerly."""
        if self.failed or not _fused_decode_step():
            return self._forward(module, *args, **kwargs)
        frame = self._frame_locals(module, args, kwargs)
        out = self._replays.run(frame)
        if out is not MISS:
            return out
        try:
            out = self._compiled(module, *args, **kwargs)
        except Exception as error:
            # torch._dynamo is imported by now (see _torch_can_trace)
            if not isinstance(error, torch._dynamo.exc.TorchDynamoException):
                raise  # the model's own errors propagate as they are
            self.failed = True
            logger.warning(
                "vllm_stub: %s runs its decode steps eagerly (torch.compile: %s)",
                type(module).__name__,
                first_line(error),
            )
            return self._forward(module, *args, **kwargs)
        self._replays.learn(frame, out)
        return out

    def _frame_locals(
        self, module: torch.nn.Module, args: tuple, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        """``forward``'s arguments by name, as its frame would hold them."""
        # zip stops at the named parameters: a forward's *args are not traced
        named = zip(self._arg_names, (module, *args), strict=False)
        return {**self._defaults, **dict(named), **kwargs}

    def _backend(self, graph: torch.fx.GraphModule, example_inputs: list[Any]) -> Any:
        """The weights baked in, :func:`_run_as_traced`, and a replay to learn."""
        baked = bake_weights(graph)
        if baked is None:
            return _run_as_traced(graph, example_inputs)
        positions, sources = baked
        kept = [example_inputs[i] for i in positions]
        return self._replays.add(_run_as_traced(graph, kept), positions, sources)

    def _filter_guards(self, entries: list[Any]) -> list[bool]:
        """:func:`_keep_changing_guards`, telling the replays what was kept."""
        keep = _keep_changing_guards(entries)
        kept = [(e.name, e.guard_type) for e, k in zip(entries, keep, strict=True) if k]
        self._replays.note_guards(kept)
        return keep


def _fused_decode_step() -> bool:
    """True in a decode step that the fused kernels run."""
    meta = get_forward_context().attn_metadata
    return (
        meta is not None and not meta.is_prefill and _custom_ops.kernels() is not None
    )


def _run_as_traced(graph: torch.fx.GraphModule, _example_inputs: list[Any]) -> Any:
    """The backend: run the traced ops as they are (no inductor, same bits).

    First ``fusion.py``'s rewrites run: the rotary op fused into the
    attention, the norms made in place, the SiLU folded into its GEMM (the
    same kernels' code on the same values).
    TorchScript's interpreter runs the ops where it can, and the graph's
    Python code where it cannot (the reason is logged once) or where
    ``VLLM_STUB_TORCHSCRIPT=0`` is set when the step is traced (a way around
    a TorchScript bug, and ``benchmarks/traced_decode.py``'s baseline).
    """
    rewrites = (fuse_rotary_into_attention, norms_in_place, silu_into_gate_up)
    if sum(rewrite(graph) for rewrite in rewrites):
        graph.recompile()
    if os.environ.get("VLLM_STUB_TORCHSCRIPT", "1") == "0":
        return _python_forward(graph)
    try:
        return _scripted(graph)
    except Exception as error:  # whatever TorchScript refuses, or no TorchScript
        logger.warning_once(
            "vllm_stub: decode steps call their ops from Python (TorchScript: %s)",
            first_line(error),
        )
        return _python_forward(graph)


def _scripted(graph: torch.fx.GraphModule) -> Any:
    """The graph's forward compiled by TorchScript.

    A traced step is a flat list of ~300 op calls (the kernels, views,
    ``contiguous``). Called from the graph's Python code each costs ~3 us of
    interpreter and binding; TorchScript calls them from C++, which saved
    3-5 ms a step on SmolLM2-135M's shape (two engines alternating: 30.9 ->
    25.9 ms at batch 1, 35.0 -> 32.0 at batch 8) for 0.4-0.8 s of compiling
    per trace. The ops are the same, in the same order, so the tokens are
    the same bits: the graph does no float arithmetic of its own for an
    optimizer to reorder, and TorchScript does not fuse CPU ops unless asked
    to.
    """
    # a plain GraphModule: TorchScript cannot compile the lazy kind's methods
    plain = torch.fx.GraphModule(graph, graph.graph)
    with warnings.catch_warnings():
        # TorchScript's deprecation notice, and notes on GraphModule's own
        # attributes; neither concerns the graph
        warnings.simplefilter("ignore")
        return torch.jit.script(plain).forward


def _python_forward(graph: torch.fx.GraphModule) -> Any:
    """The graph's own Python forward, ops resolved to their one overload.

    Ops traced by name (``torch.ops.ns.op``) are called through ``.default``:
    resolving the overload on each call costs ~1.5 us, 300 times a step.
    """
    for node in graph.graph.nodes:
        packet = node.target
        if isinstance(packet, torch._ops.OpOverloadPacket) and packet.overloads() == [
            "default"
        ]:
            node.target = packet.default
    graph.recompile()
    return graph.forward


def _keep_changing_guards(entries: list[Any]) -> list[bool]:
    """Which of dynamo's guards to check before each replay.

    Kept: guards on the call's arguments and on global torch state (unnamed
    or plain names), on the forward context (the step's metadata), and tensor
    guards on the module's tensors that are not weights (a model may keep
    state there). Dropped: the module's structure, parameters, buffers and
    closures, and imported modules, all fixed after loading.
    """
    return [_changes_between_steps(entry) for entry in entries]


def _changes_between_steps(entry: Any) -> bool:
    name = entry.name
    if name.startswith("self"):
        return entry.guard_type == "TENSOR_MATCH" and not is_weight(name)
    if name.startswith("G["):
        return "_forward_context" in name
    return True
