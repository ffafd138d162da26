"""Traced decode steps replayed without dynamo's frame, once dynamo chose them.

Every call of a ``torch.compile``'d forward goes through dynamo: its frame
hook, the kept guards, and bytecode that fetches the graph's inputs, 187 on
SmolLM2-135M's shape, most of them weights reached through chains of
attribute and dict lookups. Warm, that is ~40 us of Python; in a decode
step it runs right after GEMMs streamed the weights through the CPU caches,
and cost 0.5-0.7 ms a step at batch 8 (measured: the model's call against
the graph it runs, 100 steps each).

vLLM skips dynamo's dispatch in the same way once its model is compiled
(its custom dispatcher runs the compiled bytecode without guards), on the
grounds this engine's guard filter also rests on: a loaded model's weights
and structure do not change. So :func:`bake_weights` turns the graph's
weight inputs (parameters, buffers, closure cells: what the guard filter
drops guards on) into attributes of the graph, and :class:`Replays` calls
the graph with the rest, fetched by their sources' own expressions. A
replay is learned from a call that dynamo made, whose guards chose the
graph, and is keyed by what the kept guards check: tensors' dtypes, shapes
and strides, guarded constants and types (``is_prefill``, ``inputs_embeds``
being ``None``, ...), and grad and inference mode. A call with a new key
goes through dynamo, which picks or traces its graph and teaches it the
key. Process-wide settings that dynamo also guards (deterministic
algorithms, the default device) are taken as fixed while an engine runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

MISS = object()  # what Replays.run returns when no replay knows the call

# How dynamo passes a number it left free (a float: two models' epsilons,
# once both were traced in one process): as a tensor, converted by this.
_AS_TENSOR = getattr(torch, "_as_tensor_fullprec", None)

# How a kept guard's value enters a replay's key (other kinds guard code and
# structure, fixed once the model is loaded, or shapes, which the tensors'
# shapes in the key cover).
_KEY_OF_GUARD: dict[str, Callable[[Any], Any]] = {
    "TENSOR_MATCH": lambda t: (t.dtype, t.shape, t.stride(), t.requires_grad),
    "CONSTANT_MATCH": lambda value: value,
    "EQUALS_MATCH": lambda value: value,
    "TYPE_MATCH": type,
    "ID_MATCH": id,
}


def is_weight(source: str) -> bool:
    """A guard or source name that reaches the module's weights (fixed once loaded)."""
    return source.startswith(("self", "L['self']")) and any(
        part in source for part in ("_parameters[", "_buffers[", "__closure__")
    )


def bake_weights(graph: torch.fx.GraphModule) -> tuple[list[int], list[str]] | None:
    """Make ``graph``'s weight inputs attributes; the other inputs' places.

    Returns the positions, among the inputs dynamo passes, of the inputs
    left and their source expressions (converted as dynamo converts them);
    ``None`` (nothing changed) when an input's source is unknown, or its
    conversion.
    """
    placeholders = [n for n in graph.graph.nodes if n.op == "placeholder"]
    args = [node.meta.get("grapharg") for node in placeholders]
    if any(arg is None or arg.source is None for arg in args):
        return None
    if _AS_TENSOR is None and any(arg.pass_arg_as_tensor for arg in args):
        return None
    positions, sources = [], []
    for index, (node, arg) in enumerate(zip(placeholders, args, strict=True)):
        # a weight's size dynamo left symbolic stays an input (an int)
        if not (is_weight(arg.source.name) and isinstance(arg.example, torch.Tensor)):
            positions.append(index)
            name = arg.source.name
            sources.append(f"_as_tensor({name})" if arg.pass_arg_as_tensor else name)
            continue
        name = f"_weight_{index}"
        if isinstance(arg.example, torch.nn.Parameter):
            graph.register_parameter(name, arg.example)
        else:
            graph.register_buffer(name, arg.example, persistent=False)
        with graph.graph.inserting_before(node):
            node.replace_all_uses_with(graph.graph.get_attr(name))
        graph.graph.erase_node(node)
    graph.recompile()
    return positions, sources


class Replay:
    """One traced graph: its forward, its inputs' sources, the keys it serves."""

    def __init__(self, forward: Callable[..., Any], sources: list[str]) -> None:
        self.forward = forward
        self._inputs = compile(f"({', '.join(sources)},)", "<replay inputs>", "eval")
        # (compiled name, its value -> key part); None until dynamo's kept
        # guards are known, and for good if one cannot be evaluated here
        self._guards: list[tuple[Any, Callable[[Any], Any]]] | None = None
        self.keys: set[Any] = set()

    def take_guards(self, guards: list[tuple[str, str]]) -> None:
        """Key on the ``(name, guard type)`` pairs dynamo kept for this graph."""
        keyed = []
        for name, kind in guards:
            # not the classes' code and defaults: the model's structure
            if kind in _KEY_OF_GUARD and not name.startswith("dict(type(self"):
                try:
                    keyed.append(
                        (compile(name, "<guard>", "eval"), _KEY_OF_GUARD[kind])
                    )
                except SyntaxError:  # a name dynamo spells with its own helpers
                    return
        self._guards = keyed

    def key_and_inputs(self, frame: dict[str, Any], globals_: dict[str, Any]) -> tuple:
        """What the kept guards would check for a call with ``frame``'s locals,
        and the graph's inputs for it; raises where either cannot be had."""
        if self._guards is None:
            raise LookupError("this graph's guards are unknown")
        scope = {"G": globals_, "L": frame, "_as_tensor": _AS_TENSOR}
        values = tuple(
            to_key(eval(code, scope, frame)) for code, to_key in self._guards
        )
        key = (values, torch.is_grad_enabled(), torch.is_inference_mode_enabled())
        return key, eval(self._inputs, scope, frame)


class Replays:
    """The replays of one forward, and the one dynamo ran last (to learn from)."""

    def __init__(self, forward: Callable[..., Any]) -> None:
        self._globals = forward.__globals__
        self._all: list[Replay] = []
        self._pending_guards: list[tuple[str, str]] | None = None
        # the replay dynamo ran last and the outputs it gave, till learn()
        self._ran: tuple[Replay, Any] | None = None

    def add(
        self, forward: Callable[..., Any], positions: list[int], sources: list[str]
    ) -> Callable:
        """A new graph's forward, for dynamo to call with all the traced inputs.

        ``positions`` are those of the inputs ``forward`` takes (the weights'
        are in the graph), ``sources`` their expressions.
        """
        replay = Replay(forward, sources)
        self._all.insert(0, replay)
        first_run = [True]

        def from_dynamo(*inputs: Any) -> Any:
            # dynamo builds a graph's guards before it first runs the graph
            if first_run[0] and self._pending_guards is not None:
                replay.take_guards(self._pending_guards)
            first_run[0], self._pending_guards = False, None
            if len(inputs) != len(positions):  # dynamo passed the weights too
                inputs = tuple(inputs[i] for i in positions)
            self._ran = replay, forward(*inputs)
            return self._ran[1]

        return from_dynamo

    def note_guards(self, guards: list[tuple[str, str]]) -> None:
        """The guards dynamo kept for the graph it compiled last."""
        self._pending_guards = guards

    def run(self, frame: dict[str, Any]) -> Any:
        """The output of the replay whose key the call has, or ``MISS``."""
        for replay in self._all:
            try:
                key, inputs = replay.key_and_inputs(frame, self._globals)
                known = key in replay.keys
            except Exception:  # a name this call lacks, an unhashable value
                continue
            if known:
                return replay.forward(*inputs)[0]
        return MISS

    def learn(self, frame: dict[str, Any], returned: Any) -> None:
        """Give the replay dynamo just ran this call's key.

        Only where the call returned the graph's one output as it is: dynamo
        builds a forward's return value from the graph's outputs with
        bytecode of its own, which a replay does not run.
        """
        ran, self._ran = self._ran, None
        if ran is None:
            return
        replay, outputs = ran
        if not (isinstance(outputs, (tuple, list)) and len(outputs) == 1):
            return
        if returned is not outputs[0]:
            return
        try:
            replay.keys.add(replay.key_and_inputs(frame, self._globals)[0])
        except Exception:  # as in run: this call stays dynamo's
            pass
