"""Rewrites of a traced decode step into kernels that compute the same bits.

vLLM keeps model files plain PyTorch and rewrites its compiled graphs with
passes (``vllm/compilation``: RMSNorm + quant fusion, ...). These passes do
that for the CPU kernels, in every traced decode step (``decode_graph.py``):

- :func:`fuse_rotary_into_attention`: where a step rotates query and key
  with ``rotary_embedding`` only to hand both to ``decode_attention``, one
  ``rotary_decode_attention`` call rotates them as the attention reads them
  (``csrc/cpu/kv_cache_table.cpp``). It saves the rotary op's call and its
  two output tensors, for a rotation that costs the attention well under a
  microsecond per head.
- :func:`norms_in_place`: ``fused_add_rms_norm`` becomes vLLM's in-place
  form, ``fused_add_rms_norm_``, where nothing reads its inputs afterwards.
  A step's norms follow GEMMs, which stream megabytes of weights through the
  caches, and two new outputs per norm were allocated and written cold.
- :func:`silu_into_gate_up`: the MLP's ``silu_and_mul`` is applied by the
  gate/up GEMM as it stores its outputs (``packed_gemm_silu_and_mul``,
  ``csrc/cpu/gemm.cpp``), so the GEMM's output, twice the SiLU's, is never
  written nor read back, and the SiLU op's call goes.

Measured by ``benchmarks/graph_passes.py`` on SmolLM2-135M's shape (one
engine replaying its step as traced and rewritten in alternate steps, 315
steps each), saved a step at batch 1 / 8 / 32: the rotary fusion 0.05 /
0.23 / 0.97 ms (of 13 / 16 / 43), the norms in place 0.08 / 0.21 / 0.59 ms;
earlier runs at batch 8: 0.10-0.11 and 0.27-0.33 ms. The SiLU folded into
its GEMM, six runs of 252-504 steps: -0.03 to +0.75 ms at batch 8 (median
0.23), nothing at batch 1 (at 1-3 rows the fused op runs the GEMM then the
SiLU, see ``gemm.cpp``), -0.24 to +1.15 ms at 32; alone, on the MLP's
weight read from memory, the fused op saves 21 us a layer at batch 8 and
10 at 32 (faster in 112 and 110 of 120 paired runs). The same kernels'
code runs on the same values in the same order, so the tokens keep every
bit.
"""

from __future__ import annotations

import operator
from typing import Any

import torch
from torch.fx import GraphModule, Node


def fuse_rotary_into_attention(graph: GraphModule) -> int:
    """Fuse each rotary -> attention pair of ``graph`` in place; return how many.

    A pair fuses when the rotary op's two outputs are read by one
    ``decode_attention`` call alone, as its query and key. The caller
    recompiles the module.
    """
    ops = torch.ops.vllm_stub_cpu
    fused = 0
    for rotary in list(graph.graph.nodes):
        if not _calls(rotary, ops.rotary_embedding):
            continue
        attention = _attention_reading(rotary)
        if attention is None:
            continue
        positions, query, key, head_size, cos_sin, is_neox = rotary.args
        arguments = (query, key, *attention.args[2:])
        with graph.graph.inserting_before(attention):
            # the packet, as traced: TorchScript cannot call an overload
            both = graph.graph.call_function(
                ops.rotary_decode_attention,
                (*arguments, positions, head_size, cos_sin, is_neox),
            )
        attention.replace_all_uses_with(both)
        graph.graph.erase_node(attention)
        for item in list(rotary.users):
            graph.graph.erase_node(item)
        graph.graph.erase_node(rotary)
        fused += 1
    return fused


def norms_in_place(graph: GraphModule) -> int:
    """Make each safe ``fused_add_rms_norm`` of ``graph`` in place; return how many.

    Safe: its input is a packed GEMM's output and its residual an earlier
    norm's sum, each read by this norm alone, so the buffers it overwrites
    are its own (a graph input or a view is never one). The sum keeps the
    residual's buffer and the normed rows the input's, so each later norm
    adds into the one buffer the first norm allocated. The caller recompiles
    the module.
    """
    ops = torch.ops.vllm_stub_cpu
    safe = [
        norm
        for norm in graph.graph.nodes
        if _calls(norm, ops.fused_add_rms_norm) and _owns_its_buffers(norm)
    ]
    for norm in safe:
        x, residual = norm.args[:2]
        with graph.graph.inserting_before(norm):
            graph.graph.call_function(ops.fused_add_rms_norm_, norm.args)
        for item in list(norm.users):
            item.replace_all_uses_with(x if item.args[1] == 0 else residual)
            graph.graph.erase_node(item)
        graph.graph.erase_node(norm)
    return len(safe)


def silu_into_gate_up(graph: GraphModule) -> int:
    """Fold each ``silu_and_mul`` of a packed GEMM's output into the GEMM.

    Applies where the GEMM's output is read by the SiLU alone and each half
    (gate, up) is whole panels of 16 features, the fused op's layout. The
    caller recompiles the module. Returns how many were folded.
    """
    ops = torch.ops.vllm_stub_cpu
    folded = 0
    for silu in list(graph.graph.nodes):
        if not _calls(silu, ops.silu_and_mul) or len(silu.args) != 1 or silu.kwargs:
            continue
        gemm = silu.args[0]
        if not (
            _calls(gemm, ops.packed_gemm)
            and len(gemm.users) == 1
            and len(gemm.args) == 4
            and not gemm.kwargs
            and isinstance(gemm.args[2], int)
            and gemm.args[2] % 32 == 0
        ):
            continue
        with graph.graph.inserting_before(silu):
            fused = graph.graph.call_function(ops.packed_gemm_silu_and_mul, gemm.args)
        silu.replace_all_uses_with(fused)
        graph.graph.erase_node(silu)
        graph.graph.erase_node(gemm)
        folded += 1
    return folded


def _owns_its_buffers(norm: Node) -> bool:
    """``norm``'s input and residual are fresh tensors that only it reads."""
    ops = torch.ops.vllm_stub_cpu
    if len(norm.args) != 4 or norm.kwargs:
        return False
    x, residual = norm.args[:2]
    items_only = all(_is_item(user) for user in norm.users)
    return (
        items_only
        and _calls(x, ops.packed_gemm)
        and _is_item(residual, 1)
        and _calls(residual.args[0], ops.fused_add_rms_norm)
        and len(x.users) == 1
        and len(residual.users) == 1
    )


def _is_item(node: Any, index: int | None = None) -> bool:
    """``node`` is ``tuple[index]`` of an op's outputs (any index if ``None``)."""
    return (
        isinstance(node, Node)
        and node.op == "call_function"
        and node.target is operator.getitem
        and (index is None or node.args[1] == index)
    )


def _calls(node: Any, packet: Any) -> bool:
    """``node`` calls the op ``packet`` (traced as the packet or its overload)."""
    return (
        isinstance(node, Node)
        and node.op == "call_function"
        and node.target in (packet, packet.default)
    )


def _attention_reading(rotary: Node) -> Node | None:
    """The ``decode_attention`` that alone reads ``rotary``'s query and key."""
    if len(rotary.users) != 2 or not all(_is_item(user) for user in rotary.users):
        return None
    items = {user.args[1]: user for user in rotary.users}
    if sorted(items) != [0, 1] or any(len(i.users) != 1 for i in items.values()):
        return None
    attention = next(iter(items[0].users))
    if (
        not _calls(attention, torch.ops.vllm_stub_cpu.decode_attention)
        or attention.kwargs
        or len(attention.args) != 8
        or attention.args[:2] != (items[0], items[1])
    ):
        return None
    return attention
